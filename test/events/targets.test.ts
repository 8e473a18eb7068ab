import { beforeAll, describe, expect, it, vi } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { reconcile } from "../../functions/admin/reconcile.js";
import { UnusableUpstreamEvent } from "../../functions/events/order-events.js";
import { apply as applyPayment } from "../../functions/events/payments.js";
import { apply as applyShipment } from "../../functions/events/shipments.js";
import { metrics } from "../../functions/powertools.js";
import { expirePayments } from "../../functions/scheduled/expire-payments.js";
import { checkoutRequest, DELIVERED_ORDER_HISTORY, seedSku, upstreamEvent, who } from "../support/fixtures.js";
import { freshTable, updateStoredItem } from "../support/table.js";

async function placeOrder(qty = 1) {
  const sku = await seedSku({ onHand: 10 });
  return { sku, order: (await Order.checkout(checkoutRequest([{ ...sku, qty }]), who)).order };
}

beforeAll(async () => {
  await freshTable("targets");
});

describe("payment and shipment targets", () => {
  it("applies payment and shipment events, ignores duplicates and acknowledges out-of-order events", async () => {
    const { order } = await placeOrder();
    const orderId = order.orderId;
    expect(await applyShipment(upstreamEvent("shipments", "Shipment Ready", { orderId, shipmentId: "s-1" }))).toEqual({
      outcome: "rejected",
    });
    expect(
      await applyPayment(upstreamEvent("payments", "Payment Succeeded", { orderId, paymentId: "p-1", amount: 100 })),
    ).toEqual({ outcome: "applied" });
    expect(await applyPayment(upstreamEvent("payments", "Payment Succeeded", { orderId, paymentId: "p-1" }))).toEqual({
      outcome: "duplicate",
    });
    for (const type of ["Shipment Ready", "Shipment Dispatched", "Shipment Delivered"])
      expect(
        (await applyShipment(upstreamEvent("shipments", type, { orderId, shipmentId: "s-1", carrier: "CJ" }))).outcome,
      ).toBe("applied");
    const events = (await Order.events(orderId, { limit: 100 })).items;
    expect(events.map((e) => e.type)).toEqual(DELIVERED_ORDER_HISTORY);
    expect(events[4]?.payload).toMatchObject({ source: "shipments", shipmentId: "s-1", externalId: "s-1" });
    expect(events[3]?.actor).toBe("payments");
  });

  it("flags a payment that succeeds for an already cancelled order (refund needed), changing nothing", async () => {
    const { order } = await placeOrder();
    await Order.cancel(order.orderId, {}, who);
    const names: string[] = [];
    const single = vi.spyOn(metrics, "singleMetric").mockImplementation(() => {
      const fake = { addDimension: () => fake, addMetric: (name: string) => void names.push(name) };
      return fake as never;
    });
    try {
      expect(
        await applyPayment(
          upstreamEvent("payments", "Payment Succeeded", { orderId: order.orderId, paymentId: "late-pay" }),
        ),
      ).toEqual({ outcome: "rejected" });
    } finally {
      single.mockRestore();
    }
    expect(names).toContain("order_paid_after_cancel_total");
    expect((await Order.get(order.orderId)).status).toBe("CANCELED");
  });

  it("compensates Payment Failed by cancelling and releasing stock once", async () => {
    const { sku, order } = await placeOrder(3);
    await applyPayment(upstreamEvent("payments", "Payment Failed", { orderId: order.orderId, paymentId: "p-f" }));
    await applyPayment(upstreamEvent("payments", "Payment Failed", { orderId: order.orderId, paymentId: "p-f" }));
    expect((await Order.get(order.orderId)).status).toBe("CANCELED");
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 0, available: 10 });
  });

  it("throws for malformed events and unknown orders, so they end in the rule's DLQ instead of being lost", async () => {
    await expect(applyPayment(upstreamEvent("payments", "Payment Succeeded", { paymentId: "p" }))).rejects.toThrow(
      UnusableUpstreamEvent,
    );
    await expect(
      applyPayment(upstreamEvent("payments", "Payment Succeeded", { orderId: "01UNKNOWN", paymentId: "p" })),
    ).rejects.toThrow(UnusableUpstreamEvent);
  });

  it("applies a payment whose detail carries long, nested or odd extra fields, keeping only what the order needs", async () => {
    const { order } = await placeOrder();
    const deep = JSON.parse(`${'{"a":'.repeat(20)}1${"}".repeat(20)}`) as unknown;
    const result = await applyPayment(
      upstreamEvent("payments", "Payment Succeeded", {
        orderId: order.orderId,
        paymentId: 12345,
        amount: 1000,
        receiptUrl: "x".repeat(5000),
        raw: deep,
        tiny: 5e-324,
      }),
    );
    expect(result).toEqual({ outcome: "applied" });
    const events = (await Order.events(order.orderId, {})).items;
    expect(events.at(-1)?.payload).toEqual({
      source: "payments",
      paymentId: "12345",
      amount: 1000,
      externalId: "12345",
    });
  });
});

describe("payment window", () => {
  it("cancels orders past their deadline with PAYMENT_TIMEOUT and releases stock; paid orders are untouched", async () => {
    const overdue = await placeOrder(2);
    const paid = await placeOrder(1);
    await Order.applyExternalEvent(paid.order.orderId, { type: "PAYMENT_SUCCEEDED" }, who);
    const fresh = await placeOrder(1);
    // move the first order's deadline into the past, as if its window had elapsed
    const past = new Date(Date.now() - 60_000).toISOString();
    await updateStoredItem(keys.order(overdue.order.orderId), "SET paymentDueAt = :d, gsi2sk = :k", {
      ":d": past,
      ":k": `${past}#${overdue.order.orderId}`,
    });
    const sweep = await expirePayments({ id: "sched-1", time: new Date().toISOString() });
    expect(sweep.canceled).toEqual([overdue.order.orderId]);
    expect(await Order.get(overdue.order.orderId)).toMatchObject({
      status: "CANCELED",
      cancelReason: "PAYMENT_TIMEOUT",
      reservationStatus: "RELEASED",
    });
    expect((await Catalog.getStock(overdue.sku.skuId)).reserved).toBe(0);
    expect((await Order.get(fresh.order.orderId)).status).toBe("PAYMENT_PENDING");
    expect((await Order.get(paid.order.orderId)).status).toBe("PAID");
    expect((await expirePayments({ id: "sched-2", time: "" })).canceled).toEqual([]);
  });
});

describe("reservation reconciliation", () => {
  it("never undoes a checkout that commits while it runs", async () => {
    const { sku } = await placeOrder(1);
    const { client } = db();
    await updateStoredItem(keys.sku(sku.skuId), "SET reserved = :r, available = onHand - :r", { ":r": 4 });
    let injected = false;
    // A checkout of the same SKU commits after the SKUs were read and before the orders are.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ExpressionAttributeValues?: Record<string, unknown> };
        if (
          !injected &&
          context.commandName === "ScanCommand" &&
          input.ExpressionAttributeValues?.[":entity"] === "Order"
        ) {
          injected = true;
          await Order.checkout(checkoutRequest([{ ...sku, qty: 2 }]), who);
        }
        return next(args);
      },
      { step: "initialize", name: "inject-checkout" },
    );
    try {
      const report = await reconcile({ fix: true });
      expect(injected).toBe(true);
      expect(report.drifts.find((d) => d.skuId === sku.skuId)).toMatchObject({ corrected: false });
      expect((await Catalog.getStock(sku.skuId)).reserved).toBe(6);
    } finally {
      client.middlewareStack.remove("inject-checkout");
    }
    const second = await reconcile({ fix: true });
    expect(second.drifts.find((d) => d.skuId === sku.skuId)).toMatchObject({
      recorded: 6,
      expected: 3,
      corrected: true,
    });
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(3);
  });

  it("reports drift and corrects it only when asked", async () => {
    const { sku } = await placeOrder(2);
    await updateStoredItem(keys.sku(sku.skuId), "SET reserved = :r", { ":r": 7 });
    const report = await reconcile({});
    expect(report.drifts).toContainEqual({ skuId: sku.skuId, shard: 0, recorded: 7, expected: 2, corrected: false });
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(7);
    const fixed = await reconcile({ fix: true });
    expect(fixed.drifts).toContainEqual({ skuId: sku.skuId, shard: 0, recorded: 7, expected: 2, corrected: true });
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 2, available: 8 });
    expect((await reconcile({})).drifts.find((d) => d.skuId === sku.skuId)).toBeUndefined();
  });
});
