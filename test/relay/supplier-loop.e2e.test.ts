import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { keys } from "../../core/store/table.js";
import { apply as syncOrder } from "../../functions/events/relay-sync.js";
import { logger, metrics } from "../../functions/powertools.js";
import { type DemoSupplier, startDemoSupplier } from "../../local/demo-supplier.js";
import { DELIVERED_ORDER_HISTORY } from "../support/fixtures.js";
import { updateStoredItem } from "../support/table.js";
import { useRelaySuite } from "./support.js";

// The dropship loop end to end on the local runtime: paid order -> relay -> dispatch signed the Standard Webhooks
// way (verified by the supplier with the `standardwebhooks` library, not Orderline's code) -> signed supplier
// webhooks -> the order follows its relay. Plus every way a webhook is refused.

const suite = useRelaySuite();
let demo: DemoSupplier;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  demo = await startDemoSupplier({
    orderlineUrl: suite.runtime.url,
    supplierId: suite.kit.unique("demo"),
    stepDelayMs: 20,
    maxQuantity: 5,
  });
});
afterAll(async () => {
  await demo?.stop();
});

/** A SKU sold by dropship through `supplierId`: offer, stock and a listing naming the SKU. */
async function dropshipSku(supplierId: string) {
  const skuId = suite.kit.unique("sku");
  const listingId = suite.kit.unique("lst");
  expect(
    (await suite.call("PUT", `/internal/offers/${skuId}`, { offerId: "off-1", unitPrice: 15000, currency: "KRW" }))
      .status,
  ).toBe(200);
  expect((await suite.call("PUT", `/internal/inventory/${skuId}`, { onHand: 50 })).status).toBe(200);
  const listing = await suite.call("PUT", `/internal/listings/${listingId}`, {
    sellerId: "seller-1",
    supplierId,
    supplierOfferId: `so-${skuId}`,
    sellingPrice: 15000,
    currency: "KRW",
    channel: "own-shop",
    active: true,
    skuId,
  });
  expect(listing.status, JSON.stringify(listing.body)).toBe(200);
  return { skuId, listingId };
}

async function paidOrder(lines: { skuId: string; qty: number }[]): Promise<string> {
  const order = await suite.call("POST", "/api/v1/orders", {
    userId: "u-loop",
    idempotencyKey: suite.kit.unique("k"),
    items: lines.map((l) => ({ ...l, offerId: "off-1", unitPrice: 15000 })),
    currency: "KRW",
    shippingAddress: { name: "Kim Minji", line1: "1 Sejong-daero", city: "Seoul" },
    paymentMethod: "CARD",
  });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  const paid = await suite.call("POST", `/internal/orders/${order.body.orderId}/events`, {
    type: "PAYMENT_SUCCEEDED",
    externalId: suite.kit.unique("pay"),
  });
  expect(paid.status).toBe(200);
  return order.body.orderId as string;
}

async function orderReaches(orderId: string, status: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const order = await suite.call("GET", `/api/v1/orders/${orderId}`);
    if (order.body.status === status) return order.body;
    if (Date.now() > until) throw new Error(`order ${orderId} is ${order.body.status}, not ${status}`);
    await sleep(50);
  }
}

async function relaysOf(listingId: string) {
  return (await suite.call("GET", `/internal/relays?listingId=${listingId}&limit=100`)).body.items as Record<
    string,
    any
  >[];
}

async function history(orderId: string) {
  return (await suite.call("GET", `/api/v1/orders/${orderId}/events?limit=100`)).body.items as {
    seq: number;
    type: string;
    payload: any;
  }[];
}

describe("the dropship loop", () => {
  it("paid order -> relay -> signed dispatch -> accepted, shipped, delivered: the order follows, history gapless", async () => {
    const { skuId, listingId } = await dropshipSku(demo.supplierId);
    const orderId = await paidOrder([{ skuId, qty: 2 }]);
    await orderReaches(orderId, "DELIVERED");
    const events = await history(orderId);
    expect(events.map((e) => e.type)).toEqual(DELIVERED_ORDER_HISTORY);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const [relay] = await relaysOf(listingId);
    expect(relay).toMatchObject({
      ecommerceOrderId: orderId,
      quantity: 2,
      status: "delivered",
      metadata: { source: "ecommerce" },
    });
    expect(relay!.shippingInfo).toMatchObject({ carrier: "CJ", city: "Seoul" });
    expect(demo.received.filter((r) => r.relayId === relay!.relayId)).toEqual([
      expect.objectContaining({ verified: true, answer: 200 }),
    ]);
    const audit = (await suite.call("GET", `/internal/relays/${relay!.relayId}/audit?limit=100`)).body.items as Record<
      string,
      any
    >[];
    const inbound = audit.filter((a) => a.kind === "EXTERNAL_CALL" && a.request?.direction === "inbound");
    expect(inbound.map((a) => a.request.type)).toEqual(["relay.accepted", "relay.shipped", "relay.delivered"]);
    expect(inbound.every((a) => a.actor === `supplier:${demo.supplierId}`)).toBe(true);
  });

  it("a supplier's refusal of a paid order cancels the relay and puts the order in REFUND_PENDING with the reason", async () => {
    const { skuId, listingId } = await dropshipSku(demo.supplierId);
    const orderId = await paidOrder([{ skuId, qty: 6 }]);
    await orderReaches(orderId, "REFUND_PENDING");
    const [relay] = await relaysOf(listingId);
    expect(relay).toMatchObject({ status: "cancelled", cancelReason: "cannot supply more than 5 units" });
    const refund = (await history(orderId)).at(-1)!;
    expect(refund).toMatchObject({
      type: "REFUND_REQUESTED",
      payload: { reason: "SUPPLIER_CANCELLED", relayId: relay!.relayId },
    });
  });

  it("creates one relay per order: only the first dropship line is relayed", async () => {
    const first = await dropshipSku(demo.supplierId);
    const second = await dropshipSku(demo.supplierId);
    const orderId = await paidOrder([
      { skuId: first.skuId, qty: 1 },
      { skuId: second.skuId, qty: 1 },
    ]);
    await orderReaches(orderId, "DELIVERED");
    expect(await relaysOf(first.listingId)).toHaveLength(1);
    expect(await relaysOf(second.listingId)).toHaveLength(0);
  });

  it("applies a redelivered relay event once", async () => {
    const { skuId, listingId } = await dropshipSku(demo.supplierId);
    const orderId = await paidOrder([{ skuId, qty: 1 }]);
    await orderReaches(orderId, "DELIVERED");
    const delivered = (await suite.runtime.bus.events()).find(
      (e) =>
        e["detail-type"] === "RELAY_STATUS_CHANGED" &&
        (e.detail as any).ecommerceOrderId === orderId &&
        (e.detail as any).status === "delivered",
    )!;
    expect(delivered).toBeDefined();
    const before = (await history(orderId)).length;
    expect(await syncOrder(delivered as never)).toMatchObject({ outcome: "unchanged" });
    expect((await history(orderId)).length).toBe(before);
    expect((await relaysOf(listingId))[0]!.status).toBe("delivered");
  });
});

describe("supplier webhooks", () => {
  /** A supplier of the suite's scripted supplier server, with a secret, and a relayed relay of it. */
  async function relayedRelay() {
    const supplierId = await suite.kit.newSupplier();
    const issued = await suite.call("POST", `/internal/suppliers/${supplierId}/secret`);
    expect(issued.status).toBe(200);
    expect(issued.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const listing = await suite.kit.newListing({ supplierId });
    const created = await suite.kit.create(listing.listingId);
    const relay = await suite.kit.firstDispatch(created.relayId as string);
    expect(relay.status).toBe("relayed");
    return { supplierId, secret: issued.body.secret as string, relayId: created.relayId as string };
  }

  async function send(
    supplierId: string,
    body: unknown,
    sign: { secret: string; id?: string; at?: Date } | { headers: Record<string, string> },
  ) {
    const raw = JSON.stringify(body);
    let headers: Record<string, string>;
    if ("headers" in sign) headers = sign.headers;
    else {
      const id = sign.id ?? `msg_${suite.kit.unique("w")}`;
      const at = sign.at ?? new Date();
      headers = {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(sign.secret).sign(id, at, raw),
      };
    }
    return suite.call("POST", `/webhooks/suppliers/${supplierId}`, raw, {
      "content-type": "application/json",
      ...headers,
    });
  }

  const auditCount = async (relayId: string) =>
    ((await suite.call("GET", `/internal/relays/${relayId}/audit?limit=100`)).body.items as unknown[]).length;

  it("signs dispatch the Standard Webhooks way with the supplier's own secret", async () => {
    const { secret, relayId } = await relayedRelay();
    const [request] = suite.supplier.requestsFor(relayId);
    expect(() => new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();
    expect(request!.headers["webhook-id"]).toBe(`relay_${relayId}`);
  });

  it("applies a signed event once: a redelivered webhook-id is 200 and changes nothing", async () => {
    const { supplierId, secret, relayId } = await relayedRelay();
    const id = `msg_${suite.kit.unique("w")}`;
    const first = await send(supplierId, { type: "relay.accepted", relayId }, { secret, id });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ relayId, status: "confirmed" });
    const count = await auditCount(relayId);
    const again = await send(supplierId, { type: "relay.accepted", relayId }, { secret, id });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ relayId, status: "confirmed" });
    expect(await auditCount(relayId)).toBe(count);
    // The same event under a new id is a new event the status no longer allows.
    expect((await send(supplierId, { type: "relay.accepted", relayId }, { secret })).status).toBe(409);
  });

  it("refuses a wrong signature, a missing one and a stale timestamp with 401 and writes nothing", async () => {
    const { supplierId, secret, relayId } = await relayedRelay();
    const count = await auditCount(relayId);
    const body = { type: "relay.accepted", relayId };
    const forged = await send(supplierId, body, {
      secret: `whsec_${Buffer.from("not-the-secret-at-all-32-bytes!!").toString("base64")}`,
    });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe("INVALID_SIGNATURE");
    expect((await send(supplierId, body, { headers: {} })).status).toBe(401);
    const stale = await send(supplierId, body, { secret, at: new Date(Date.now() - 6 * 60_000) });
    expect(stale.status).toBe(401);
    expect(stale.body.detail).toMatch(/5 minutes/);
    // Deduplication keeps the whole signed id: one too long to keep whole is refused, not cut.
    expect((await send(supplierId, body, { secret, id: `msg_${"x".repeat(200)}` })).status).toBe(400);
    const genuine = await send(supplierId, body, { secret });
    expect(genuine.status).toBe(200);
    expect(await auditCount(relayId)).toBe(count + 2); // the one accepted call: its status change and inbound call
    expect((await suite.kit.get(relayId)).status).toBe("confirmed");
  });

  it("counts and logs a refused call by reason, never with its body", async () => {
    const { supplierId, relayId } = await relayedRelay();
    const names: string[] = [];
    const metricSpy = vi.spyOn(metrics, "singleMetric").mockImplementation(() => {
      const single = {
        addDimension: (_: string, value: string) => {
          names.push(`dim:${value}`);
          return single;
        },
        addMetric: (name: string) => void names.push(name),
      };
      return single as unknown as ReturnType<typeof metrics.singleMetric>;
    });
    const lines: string[] = [];
    const logSpy = vi
      .spyOn(logger, "warn")
      .mockImplementation((...args: unknown[]) => void lines.push(JSON.stringify(args)));
    try {
      const marker = "secret-body-marker-4242";
      const response = await send(
        supplierId,
        { type: "relay.accepted", relayId, reason: marker },
        { secret: `whsec_${Buffer.from("x".repeat(32)).toString("base64")}` },
      );
      expect(response.status).toBe(401);
      expect(names).toContain("supplier_webhook_rejected_total");
      expect(names).toContain("dim:mismatch");
      expect(lines.join("\n")).toContain("supplier webhook refused");
      expect(lines.join("\n")).not.toContain(marker);
    } finally {
      metricSpy.mockRestore();
      logSpy.mockRestore();
    }
  });

  it("refuses another supplier's relay with 404", async () => {
    const mine = await relayedRelay();
    const theirs = await relayedRelay();
    const response = await send(
      mine.supplierId,
      { type: "relay.accepted", relayId: theirs.relayId },
      { secret: mine.secret },
    );
    expect(response.status).toBe(404);
    expect((await suite.kit.get(theirs.relayId)).status).toBe("relayed");
  });

  it("keeps the previous secret verifying for 24 h after a rotation, and not after", async () => {
    const { supplierId, secret: old, relayId } = await relayedRelay();
    const rotated = await suite.call("POST", `/internal/suppliers/${supplierId}/secret`);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    expect((await send(supplierId, { type: "relay.accepted", relayId }, { secret: old })).status).toBe(200);
    await updateStoredItem(keys.supplier(supplierId), "SET previousSecretValidUntil = :past", {
      ":past": new Date(Date.now() - 1000).toISOString(),
    });
    const shipped = { type: "relay.shipped", relayId, shippingInfo: { carrier: "CJ", trackingNumber: "CJ-1" } };
    expect((await send(supplierId, shipped, { secret: old })).status).toBe(401);
    const ok = await send(supplierId, shipped, { secret: fresh });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("shipped");
  });

  it("refuses a body over the cap before reading it", async () => {
    const { supplierId, secret, relayId } = await relayedRelay();
    const huge = { type: "relay.accepted", relayId, reason: "x".repeat(70 * 1024) };
    const response = await send(supplierId, huge, { secret });
    expect(response.status).toBe(413);
    expect((await suite.kit.get(relayId)).status).toBe("relayed");
  });
});
