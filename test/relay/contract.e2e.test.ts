import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { supplierTimeoutMs } from "../../core/relay/config.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { publish } from "../../functions/stream/publish.js";
import type { BusEvent } from "../../local/bus.js";
import { invoke, lambdaContext } from "../../local/lambda.js";
import { setEnv } from "../support/env.js";
import { useRelaySuite } from "./support.js";

// Behaviours of the relay part of ../shared/contract.md that no other suite pinned down, over HTTP on the local
// runtime with a real supplier server.

const suite = useRelaySuite();

const relayEvents = (relayId: string): BusEvent[] =>
  suite.runtime.bus
    .events()
    .filter((e) => e.source === "orderline.relays" && (e.detail as { relayId?: string }).relayId === relayId);

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The audit items of a relay as stored (what the table's stream carries). */
async function storedAudit(relayId: string): Promise<Record<string, unknown>[]> {
  const { doc, tableName } = db();
  const page = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
      ExpressionAttributeValues: { ":pk": keys.relay(relayId).pk, ":audit": keys.relayAuditPrefix },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}

/** The stream record DynamoDB Streams delivers (again, on a retried batch) for an inserted item. */
function insertRecord(item: Record<string, unknown>): DynamoDBRecord {
  return {
    eventID: `redelivery-${String(item.sk)}`,
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }) as never,
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: "1".padStart(21, "0"),
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

async function pageAll(path: string, limit: number): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response: { status: number; body: any } = await suite.call(
      "GET",
      `${path}${path.includes("?") ? "&" : "?"}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
    expect(++pages).toBeLessThan(100);
  } while (cursor !== null);
  return items;
}

describe("relay events published on the bus", () => {
  it("RELAY_CREATED and RELAY_STATUS_CHANGED carry the audit record, the relay's ids and status, and the audit id as eventId", async () => {
    if (!suite.autoDispatch) return expect(suite.autoDispatch, "the runtime runs no event pipeline").toBe(true);
    const { relay } = await suite.kit.relayAfterFirstDispatch("accept");
    expect(relay.status).toBe("relayed");
    const events = await until("RELAY_CREATED and RELAY_STATUS_CHANGED on the bus", () => {
      const found = relayEvents(relay.relayId);
      return found.some((e) => e["detail-type"] === "RELAY_STATUS_CHANGED") &&
        found.some((e) => e["detail-type"] === "RELAY_CREATED")
        ? found
        : undefined;
    });
    const audit = await suite.kit.audit(relay.relayId);
    for (const event of events) {
      const detail = event.detail as Record<string, any>;
      expect(detail.eventId, event["detail-type"]).toEqual(expect.any(String));
      expect(detail.eventId).toBe(detail.auditId);
      // The detail is the audit record as the audit API shows it, plus the relay's ids and status.
      const entry = audit.find((a) => a.auditId === detail.auditId);
      expect(entry, `no audit entry ${detail.auditId}`).toBeDefined();
      expect(detail).toMatchObject({ ...entry, relayId: relay.relayId });
      expect(typeof detail.status).toBe("string");
    }
    const created = events.find((e) => e["detail-type"] === "RELAY_CREATED")!.detail as Record<string, any>;
    expect(created).toMatchObject({ kind: "STATUS_CHANGE", status: "pending" });
    const changed = events.find((e) => e["detail-type"] === "RELAY_STATUS_CHANGED")!.detail as Record<string, any>;
    expect(changed).toMatchObject({ kind: "STATUS_CHANGE", status: "relayed" });
    expect(new Set(events.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(events.length);
  });

  it("a redelivered stream record publishes the same eventId again, so consumers can drop the duplicate", async () => {
    if (!suite.autoDispatch) return expect(suite.autoDispatch, "the runtime runs no event pipeline").toBe(true);
    const { relay } = await suite.kit.relayAfterFirstDispatch("accept");
    const first = await until("RELAY_CREATED on the bus", () =>
      relayEvents(relay.relayId).find((e) => e["detail-type"] === "RELAY_CREATED"),
    );
    const item = (await storedAudit(relay.relayId)).find((i) => i.publishAs === "RELAY_CREATED");
    expect(item).toBeDefined();

    // As the runtime invokes the stream publisher (inside a Lambda invocation context).
    const result = await invoke(
      publish,
      { Records: [insertRecord(item!)] },
      lambdaContext("orderline-stream-publisher"),
    );
    expect(result.batchItemFailures).toEqual([]);
    const copies = await until("the re-published RELAY_CREATED", () => {
      const found = relayEvents(relay.relayId).filter((e) => e["detail-type"] === "RELAY_CREATED");
      return found.length >= 2 ? found : undefined;
    });
    expect(copies).toHaveLength(2);
    expect(copies.map((e) => (e.detail as { eventId: string }).eventId)).toEqual([
      (first.detail as { eventId: string }).eventId,
      (first.detail as { eventId: string }).eventId,
    ]);
    expect(copies[1]!.id).not.toBe(copies[0]!.id); // two deliveries on the bus, one event for consumers
    // The duplicate RELAY_CREATED does not dispatch the relay again.
    await suite.runtime.bus.idle();
    expect(suite.supplier.requestsFor(relay.relayId)).toHaveLength(1);
  });
});

describe("the actor of relay changes on the local runtime", () => {
  it("is `local` when no x-actor header is sent, and the header otherwise", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("accept");
    const patch = (name: string, headers: Record<string, string> = {}) =>
      suite.call(
        "PATCH",
        `/internal/relays/${relay.relayId}`,
        { customerInfo: { name, phone: "010-0000-0000" } },
        headers,
      );
    expect((await patch("Anonymous Change")).status).toBe(200);
    expect((await patch("Named Change", { "x-actor": "ops-bob" })).status).toBe(200);

    const audit = await suite.kit.audit(relay.relayId);
    expect(audit[0]).toMatchObject({ kind: "STATUS_CHANGE", actor: "local" }); // the create, sent without x-actor
    const changes = audit.filter((a) => a.kind === "DATA_CHANGE");
    expect(changes.map((a) => a.actor)).toEqual(["local", "ops-bob"]);
  });
});

describe("supplier timeout", () => {
  it("defaults to 5 s when ORDERLINE_SUPPLIER_TIMEOUT_MS is unset", async () => {
    const saved = process.env.ORDERLINE_SUPPLIER_TIMEOUT_MS;
    setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: undefined });
    try {
      expect(supplierTimeoutMs()).toBe(5_000);
      // A supplier that never answers the first try: the quick retry comes once the 5 s timeout has cut it off.
      const listing = await suite.kit.newListing();
      suite.supplier.script(listing.listingId, ["hang", "accept"]);
      const created = await suite.kit.create(listing.listingId);
      const relay = await suite.kit.firstDispatch(created.relayId as string);
      expect(relay.status).toBe("relayed");
      const [hung, retried] = suite.supplier.requestsFor(created.relayId as string);
      expect(retried, "no quick retry after the hanging try").toBeDefined();
      const waited = retried!.at - hung!.at;
      expect(waited).toBeGreaterThanOrEqual(4_900);
      expect(waited).toBeLessThan(7_000);
    } finally {
      setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: saved });
    }
  }, 30_000);
});

describe("relay lists", () => {
  it("GET /internal/relays/{relayId}/audit pages oldest first by cursor, 20 entries by default", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("accept");
    for (let i = 0; i < 20; i++) {
      const changed = await suite.call("PATCH", `/internal/relays/${relay.relayId}`, {
        customerInfo: { name: `Customer ${i}`, phone: "010-1234-5678" },
      });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    }
    const all = await suite.kit.audit(relay.relayId);
    expect(all.length).toBeGreaterThan(20);

    const first = await suite.call("GET", `/internal/relays/${relay.relayId}/audit`);
    expect(first.body.items).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const paged = await pageAll(`/internal/relays/${relay.relayId}/audit`, 3);
    expect(paged.map((a) => a.auditId)).toEqual(all.map((a) => a.auditId));
    expect(new Set(paged.map((a) => a.auditId)).size).toBe(paged.length);
    const times = paged.map((a) => Date.parse(a.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The PATCHes appear in the order they were made.
    expect(
      paged
        .filter((a) => a.kind === "DATA_CHANGE")
        .map((a) => a.after?.customerInfo?.name ?? a.after?.["customerInfo.name"]),
    ).toEqual(Array.from({ length: 20 }, (_, i) => `Customer ${i}`));
  });

  it("GET /internal/relays?listingId= gives 20 relays per page by default, every relay once by cursor", async () => {
    const listing = await suite.kit.newListing();
    const ids: string[] = [];
    for (let i = 0; i < 21; i++) ids.push((await suite.kit.create(listing.listingId)).relayId as string);
    const first = await suite.call("GET", `/internal/relays?listingId=${listing.listingId}`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const all = await pageAll(`/internal/relays?listingId=${listing.listingId}`, 20);
    expect(all.map((r) => r.relayId).sort()).toEqual([...ids].sort());
  });
});
