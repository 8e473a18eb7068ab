import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Order } from "../../core/order/index.js";
import { dispatchInFlight, readStored } from "../../core/relay/change.js";
import { Relay } from "../../core/relay/index.js";
import { guardedWrite } from "../../core/relay/store.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { TransactionCancelled, transactWrite } from "../../core/store/transact.js";
import { setEnv } from "../support/env.js";
import { checkoutRequest, codeOf, seedSku, who } from "../support/fixtures.js";
import { freshTable, updateStoredItem } from "../support/table.js";
import { type FakeSupplier, startSupplier } from "./supplier.js";
import { relayTestEnv } from "./support.js";

// Core-level properties of the relay store that HTTP cannot show: what each write asserts, the dispatch lease.

relayTestEnv();
let supplier: FakeSupplier;

beforeAll(async () => {
  await freshTable("relay-store");
  supplier = await startSupplier();
});

afterAll(async () => {
  await supplier?.stop();
});

async function listing(behaviour: Parameters<FakeSupplier["behave"]>[1] = "accept") {
  const supplierId = `sup-${ulid().toLowerCase()}`;
  const listingId = `lst-${ulid().toLowerCase()}`;
  await Relay.putSupplier(supplierId, { name: "Acme", endpointUrl: `${supplier.url}/orders` });
  await Relay.putListing(listingId, {
    sellerId: "s-1",
    supplierId,
    supplierOfferId: "off-1",
    sellingPrice: 5000,
    currency: "KRW",
    channel: "erp",
    active: true,
  });
  supplier.behave(listingId, behaviour);
  return listingId;
}

async function newRelay(listingId: string, extra: Record<string, unknown> = {}) {
  const { relay } = await Relay.create(
    { listingId, quantity: 1, externalOrderId: `ext-${ulid()}`, metadata: { source: "erp" }, ...extra },
    who,
  );
  return relay;
}

describe("create transaction", () => {
  it("checks the ecommerce order with a ConditionCheck inside the create transaction, not a read before it", async () => {
    const sku = await seedSku();
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    const listingId = await listing();
    const { doc } = db();
    const sent: { name: string; input: any }[] = [];
    const original = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
    const spy = vi.spyOn(doc, "send").mockImplementation(((command: {
      constructor: { name: string };
      input: unknown;
    }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return original(command);
    }) as never);
    try {
      await Relay.create(
        { listingId, quantity: 1, ecommerceOrderId: order.orderId, metadata: { source: "ecommerce" } },
        who,
      );
    } finally {
      spy.mockRestore();
    }
    const orderKey = keys.order(order.orderId);
    const reads = sent.filter((c) => c.name !== "TransactWriteCommand");
    expect(reads.every((c) => JSON.stringify(c.input.Key) !== JSON.stringify(orderKey))).toBe(true);
    const transaction = sent.find((c) => c.name === "TransactWriteCommand")!;
    expect(transaction.input.TransactItems).toContainEqual({
      ConditionCheck: expect.objectContaining({ Key: orderKey, ConditionExpression: "attribute_exists(pk)" }),
    });
    const kinds = transaction.input.TransactItems.map(
      (i: any) => `${Object.keys(i)[0]}:${i.Put?.Item?.entity ?? i.ConditionCheck?.Key?.pk?.split("#")[0]}`,
    );
    // No write of any kind on the listing item: a best-selling listing is read, never a transaction's hot key.
    expect(kinds).toEqual([
      "ConditionCheck:ORDER",
      "Put:RelayUnique", // ecommerceOrderId
      "Put:RelayUnique", // order number
      "Put:Relay",
      "Put:RelayAudit",
    ]);
  });

  it("refuses an unknown ecommerce order with ECOMMERCE_ORDER_NOT_FOUND", async () => {
    const listingId = await listing();
    expect(await codeOf(Relay.create({ listingId, quantity: 1, ecommerceOrderId: "01NOSUCH" }, who))).toBe(
      "ECOMMERCE_ORDER_NOT_FOUND",
    );
  });
});

describe("guarded writes", () => {
  it("a change planned on a stale status fails in DynamoDB, whatever the caller believed", async () => {
    const listingId = await listing("accept");
    const relay = await newRelay(listingId);
    // Plan "quantity 5" on the pending relay...
    const next = { ...relay, quantity: 5, totalPrice: 25000, version: relay.version + 1 };
    const stale = guardedWrite(db().tableName, relay, { next, fields: ["quantity"], audits: [] }, who, new Date());
    // ...then the supplier takes it (pending -> relayed) before the write lands.
    expect((await Relay.dispatch(relay.relayId, who, { trigger: "on_demand" })).outcome).toBe("relayed");
    await expect(transactWrite(stale)).rejects.toBeInstanceOf(TransactionCancelled);
    expect((await Relay.get(relay.relayId)).quantity).toBe(1);
  });

  it("the status condition alone refuses a frozen field, even with a matching version", async () => {
    const listingId = await listing("accept");
    const relay = await newRelay(listingId);
    await Relay.dispatch(relay.relayId, who, { trigger: "on_demand" });
    const relayed = await Relay.get(relay.relayId);
    // Version and status match the stored relay, but quantity is frozen from relayed on: the IN (...) guard fails.
    const next = { ...relayed, quantity: 9, version: relayed.version + 1 };
    const write = guardedWrite(db().tableName, relayed, { next, fields: ["quantity"], audits: [] }, who, new Date());
    expect(write[0]!.Put!.ConditionExpression).toContain("#status IN (:allowed0)");
    await expect(transactWrite(write)).rejects.toBeInstanceOf(TransactionCancelled);
    expect(await codeOf(Relay.patch(relay.relayId, { quantity: 9 }, who))).toBe("FIELD_IMMUTABLE");
  });
});

describe("dispatch reads", () => {
  it("reads the supplier once per attempt: its endpoint and its signing secret come from the same item", async () => {
    const listingId = await listing("accept");
    const supplierId = (await Relay.getListing(listingId)).supplierId;
    await Relay.issueSecret(supplierId);
    const relay = await newRelay(listingId);
    const { doc } = db();
    const supplierKey = JSON.stringify(keys.supplier(supplierId));
    const original = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
    let supplierReads = 0;
    const spy = vi.spyOn(doc, "send").mockImplementation(((command: { input: { Key?: unknown } }) => {
      if (JSON.stringify(command.input.Key) === supplierKey) supplierReads++;
      return original(command);
    }) as never);
    try {
      expect((await Relay.dispatch(relay.relayId, who, { trigger: "on_demand" })).outcome).toBe("relayed");
    } finally {
      spy.mockRestore();
    }
    expect(supplierReads).toBe(1);
    expect(supplier.requestsFor(relay.relayId)[0]?.headers["webhook-signature"]).toMatch(/^v1,/);
  });
});

describe("dispatch lease", () => {
  it("keeps changes off a relay while its supplier call is in flight", async () => {
    const listingId = await listing("hang");
    const relay = await newRelay(listingId);
    const inFlight = Relay.dispatch(relay.relayId, who, { trigger: "on_demand" });
    await vi.waitFor(async () => expect(supplier.requestsFor(relay.relayId).length).toBeGreaterThan(0));
    expect(await codeOf(Relay.patch(relay.relayId, { quantity: 3 }, who))).toBe("CONCURRENT_MODIFICATION");
    expect(await codeOf(Relay.applyEvent(relay.relayId, { type: "CANCELLED", reason: "x" }, who))).toBe(
      "CONCURRENT_MODIFICATION",
    );
    expect((await Relay.dispatch(relay.relayId, who, { trigger: "retry", reason: "dup" })).skipped).toBe("in_flight");
    const result = await inFlight;
    expect(result).toMatchObject({ outcome: "failed", attempt: 1, tries: 3 });
    // Once the attempt is recorded the relay is free again.
    expect((await Relay.patch(relay.relayId, { quantity: 3 }, who)).relay.quantity).toBe(3);
  });

  it("frees a relay whose dispatcher died mid-attempt once the lease runs out (no auto-heal: it waits for a dispatch)", async () => {
    const listingId = await listing("accept");
    const relay = await newRelay(listingId);
    const setLease = (until: Date) =>
      updateStoredItem(keys.relay(relay.relayId), "SET dispatchLeaseUntil = :until, dispatchAttempts = :one", {
        ":until": until.toISOString(),
        ":one": 1,
      });
    await setLease(new Date(Date.now() + 60_000));
    expect((await Relay.dispatch(relay.relayId, who, { trigger: "retry", reason: "r" })).skipped).toBe("in_flight");
    await setLease(new Date(Date.now() - 1));
    expect((await readStored(relay.relayId)).relay.status).toBe("pending");
    // the expired lease no longer counts as a dispatch in flight
    expect(dispatchInFlight(await readStored(relay.relayId), new Date())).toBe(false);
    const result = await Relay.dispatch(relay.relayId, who, { trigger: "retry", reason: "after crash" });
    expect(result).toMatchObject({ outcome: "relayed", attempt: 2 });
  });

  it("keeps the record of a supplier call whose result could not be applied", async () => {
    const listingId = await listing("hang");
    const relay = await newRelay(listingId);
    const inFlight = Relay.dispatch(relay.relayId, who, { trigger: "on_demand" });
    await vi.waitFor(async () => expect(supplier.requestsFor(relay.relayId).length).toBeGreaterThan(0));
    // Someone overrides the lease (an operator's raw fix): the dispatcher's guarded result write must fail.
    await updateStoredItem(keys.relay(relay.relayId), "SET version = version + :one", { ":one": 1 });
    const result = await inFlight;
    expect(result.outcome).toBe("failed");
    expect(result.relay.metadata.lastError).toBeUndefined();
    const entries = (await Relay.audit(relay.relayId, { limit: 100 })).items;
    expect(entries.at(-1)).toMatchObject({ kind: "EXTERNAL_CALL", success: false, attempt: 1 });
    expect(entries.at(-1)!.reason).toContain("result not applied");
  });
});

describe("configuration", () => {
  it("fails loudly without a signing secret and without sending anything", async () => {
    const listingId = await listing("accept");
    const relay = await newRelay(listingId);
    const saved = process.env.SUPPLIER_SIGNING_SECRET;
    setEnv({ SUPPLIER_SIGNING_SECRET: undefined });
    try {
      await expect(Relay.dispatch(relay.relayId, who, { trigger: "on_demand" })).rejects.toThrow(
        /SUPPLIER_SIGNING_SECRET is not configured/,
      );
    } finally {
      setEnv({ SUPPLIER_SIGNING_SECRET: saved });
    }
    expect(supplier.requestsFor(relay.relayId)).toHaveLength(0);
    expect((await Relay.get(relay.relayId)).dispatchAttempts).toBe(0);
  });

  it("rejects a malformed timeout setting when the configuration is read, instead of guessing", async () => {
    try {
      expect(() => setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "soon" })).toThrow(/ORDERLINE_SUPPLIER_TIMEOUT_MS/);
      expect(() => setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "0" })).toThrow(
        "ORDERLINE_SUPPLIER_TIMEOUT_MS must be a positive number, got 0",
      );
    } finally {
      setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "300" });
    }
  });
});
