import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { withEnv } from "../support/env.js";
import { DELIVERED_ORDER_HISTORY } from "../support/fixtures.js";
import { client, startTestRuntime } from "../support/runtime.js";

let runtime: LocalRuntime;
let call: ReturnType<typeof client>;
let eventBridge: EventBridgeClient;
let n = 0;

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `condition not reached within ${timeoutMs} ms; last value ${JSON.stringify(value).slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function placeOrder(qty = 1) {
  const skuId = `sku-life-${++n}`;
  await call("PUT", `/internal/offers/${skuId}`, { offerId: `off-${n}`, unitPrice: 1000, currency: "KRW" });
  await call("PUT", `/internal/inventory/${skuId}`, { onHand: 10 });
  const created = await call("POST", "/api/v1/orders", {
    userId: "u-life",
    idempotencyKey: `life-${n}`,
    items: [{ skuId, qty, offerId: `off-${n}`, unitPrice: 1000 }],
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
  });
  expect(created.status).toBe(201);
  return { skuId, orderId: created.body.orderId as string };
}

async function put(source: string, detailType: string, detail: Record<string, unknown>) {
  const result = await eventBridge.send(
    new PutEventsCommand({
      Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: "default" }],
    }),
  );
  expect(result.FailedEntryCount ?? 0).toBe(0);
}

const order = async (orderId: string) => (await call("GET", `/api/v1/orders/${orderId}`)).body;
const published = async (orderId: string) =>
  (
    (await call("GET", "/_local/events?source=orderline.orders&limit=100")).body.items as {
      "detail-type": string;
      detail: { orderId: string; seq: number; eventId: string };
    }[]
  ).filter((e) => e.detail.orderId === orderId);

beforeAll(async () => {
  runtime = await startTestRuntime();
  call = client(runtime.url);
  const health = await call("GET", "/health");
  expect(health.body.eventBusEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  eventBridge = new EventBridgeClient({
    endpoint: health.body.eventBusEndpoint,
    region: "local",
    credentials: { accessKeyId: "any", secretAccessKey: "any" },
  });
});

afterAll(async () => {
  await runtime.stop();
});

describe("event-driven lifecycle on the local runtime", () => {
  it("publishes a checkout's three events to the bus, in order, with stable ids", async () => {
    const { orderId } = await placeOrder();
    const events = await until(
      () => published(orderId),
      (e) => e.length >= 3,
    );
    expect(events.map((e) => e["detail-type"])).toEqual(["ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_REQUESTED"]);
    expect(events.map((e) => e.detail.seq)).toEqual([1, 2, 3]);
    const history = (await call("GET", `/api/v1/orders/${orderId}/events`)).body.items as { eventId: string }[];
    expect(events.map((e) => e.detail.eventId)).toEqual(history.map((e) => e.eventId));
  });

  it("walks an order from PAID to DELIVERED through payment and shipment events; duplicates change nothing", async () => {
    const { orderId } = await placeOrder();
    await put("payments", "Payment Succeeded", { orderId, paymentId: "pay-1", amount: 1000 });
    const paid = await until(
      () => order(orderId),
      (o) => o.status === "PAID",
    );
    await put("payments", "Payment Succeeded", { orderId, paymentId: "pay-1", amount: 1000 });
    await runtime.bus.idle();
    expect((await order(orderId)).version).toBe(paid.version);

    await put("shipments", "Shipment Ready", { orderId, shipmentId: "shp-1" });
    await until(
      () => order(orderId),
      (o) => o.status === "READY_TO_SHIP",
    );
    await put("shipments", "Shipment Dispatched", {
      orderId,
      shipmentId: "shp-1",
      carrier: "CJ",
      trackingNumber: "123",
    });
    await until(
      () => order(orderId),
      (o) => o.status === "SHIPPED",
    );
    await put("shipments", "Shipment Delivered", { orderId, shipmentId: "shp-1" });
    await until(
      () => order(orderId),
      (o) => o.status === "DELIVERED",
    );

    const history = (await call("GET", `/api/v1/orders/${orderId}/events`)).body.items as {
      seq: number;
      type: string;
    }[];
    expect(history.map((e) => e.type)).toEqual(DELIVERED_ORDER_HISTORY);
    expect(history.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const out = await until(
      () => published(orderId),
      (e) => e.length >= 7,
    );
    expect(out.map((e) => e["detail-type"]).slice(3)).toEqual([
      "PAYMENT_SUCCEEDED",
      "READY_TO_SHIP",
      "SHIPPED",
      "DELIVERED",
    ]);
  });

  it("compensates Payment Failed: cancelled and stock released", async () => {
    const { orderId, skuId } = await placeOrder(3);
    await put("payments", "Payment Failed", { orderId, paymentId: "pay-2", reason: "card declined" });
    await until(
      () => order(orderId),
      (o) => o.status === "CANCELED",
    );
    expect((await call("GET", `/internal/inventory/${skuId}`)).body).toMatchObject({ reserved: 0, available: 10 });
    const out = await until(
      () => published(orderId),
      (e) => e.length >= 6,
    );
    expect(out.slice(3).map((e) => e["detail-type"])).toEqual([
      "PAYMENT_FAILED",
      "ORDER_CANCELED",
      "INVENTORY_RELEASED",
    ]);
  });

  it("changes nothing for an out-of-order event, and never dead-letters it", async () => {
    const { orderId } = await placeOrder();
    await put("shipments", "Shipment Delivered", { orderId, shipmentId: "shp-early" });
    await runtime.bus.idle();
    expect(await order(orderId)).toMatchObject({ status: "PAYMENT_PENDING", version: 3 });
    expect(runtime.bus.deadLetters).toEqual([]);
  });

  it("completes the refund path to REFUNDED", async () => {
    const { orderId } = await placeOrder();
    await put("payments", "Payment Succeeded", { orderId, paymentId: "pay-3" });
    await until(
      () => order(orderId),
      (o) => o.status === "PAID",
    );
    expect(
      (await call("POST", `/internal/orders/${orderId}/events`, { type: "REFUND_REQUESTED", externalId: "rf-1" })).body
        .status,
    ).toBe("REFUND_PENDING");
    await put("payments", "Refund Succeeded", { orderId, paymentId: "pay-3" });
    await until(
      () => order(orderId),
      (o) => o.status === "REFUNDED",
    );
  });

  it("cancels an unpaid order when its payment window closes and releases its stock", async () => {
    await withEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "1" }, async () => {
      const { orderId, skuId } = await placeOrder(2);
      expect((await call("GET", `/internal/inventory/${skuId}`)).body.reserved).toBe(2);
      await new Promise((r) => setTimeout(r, 1100));
      await runtime.runScheduledJob("ExpireUnpaidOrders");
      expect(await order(orderId)).toMatchObject({ status: "CANCELED", cancelReason: "PAYMENT_TIMEOUT" });
      expect((await call("GET", `/internal/inventory/${skuId}`)).body.reserved).toBe(0);
    });
  });
});
