import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { EventBridgeEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { reconcile } from "../../functions/admin/reconcile.js";
import { apply as applyPayment } from "../../functions/events/payments.js";
import { apply as applyShipment } from "../../functions/events/shipments.js";
import { expirePayments } from "../../functions/scheduled/expire-payments.js";
import { checkoutRequest, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

let n = 0;
function upstream(source: string, detailType: string, detail: Record<string, unknown>): EventBridgeEvent<string, unknown> {
  return { version: "0", id: `ev-${++n}`, source, "detail-type": detailType, account: "1", time: new Date().toISOString(), region: "local", resources: [], detail };
}

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
    expect(await applyShipment(upstream("shipments", "Shipment Ready", { orderId, shipmentId: "s-1" }))).toEqual({ outcome: "rejected" });
    expect(await applyPayment(upstream("payments", "Payment Succeeded", { orderId, paymentId: "p-1", amount: 100 }))).toEqual({ outcome: "applied" });
    expect(await applyPayment(upstream("payments", "Payment Succeeded", { orderId, paymentId: "p-1" }))).toEqual({ outcome: "duplicate" });
    for (const type of ["Shipment Ready", "Shipment Dispatched", "Shipment Delivered"])
      expect((await applyShipment(upstream("shipments", type, { orderId, shipmentId: "s-1", carrier: "CJ" }))).outcome).toBe("applied");
    const events = (await Order.events(orderId, { limit: 100 })).items;
    expect(events.map((e) => e.type)).toEqual(["ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_REQUESTED", "PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED", "DELIVERED"]);
    expect(events[4]?.payload).toMatchObject({ source: "shipments", shipmentId: "s-1", externalId: "s-1" });
    expect(events[3]?.actor).toBe("payments");
  });

  it("compensates Payment Failed by cancelling and releasing stock once", async () => {
    const { sku, order } = await placeOrder(3);
    await applyPayment(upstream("payments", "Payment Failed", { orderId: order.orderId, paymentId: "p-f" }));
    await applyPayment(upstream("payments", "Payment Failed", { orderId: order.orderId, paymentId: "p-f" }));
    expect((await Order.get(order.orderId)).status).toBe("CANCELED");
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 0, available: 10 });
  });

  it("acknowledges malformed events and unknown orders without throwing", async () => {
    expect(await applyPayment(upstream("payments", "Payment Succeeded", { paymentId: "p" }))).toEqual({ outcome: "rejected" });
    expect(await applyPayment(upstream("payments", "Payment Succeeded", { orderId: "01UNKNOWN", paymentId: "p" }))).toEqual({ outcome: "rejected" });
  });
});

describe("payment window", () => {
  it("cancels orders past their deadline with PAYMENT_TIMEOUT and releases stock; paid orders are untouched", async () => {
    const overdue = await placeOrder(2);
    const paid = await placeOrder(1);
    await Order.applyExternalEvent(paid.order.orderId, { type: "PAYMENT_SUCCEEDED" }, who);
    const fresh = await placeOrder(1);
    const { doc, tableName } = db();
    // move the first order's deadline into the past, as if its window had elapsed
    const past = new Date(Date.now() - 60_000).toISOString();
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.order(overdue.order.orderId),
        UpdateExpression: "SET paymentDueAt = :d, gsi2sk = :k",
        ExpressionAttributeValues: { ":d": past, ":k": `${past}#${overdue.order.orderId}` },
      }),
    );
    const sweep = await expirePayments({ id: "sched-1", time: new Date().toISOString() });
    expect(sweep.canceled).toEqual([overdue.order.orderId]);
    expect(await Order.get(overdue.order.orderId)).toMatchObject({ status: "CANCELED", cancelReason: "PAYMENT_TIMEOUT", reservationStatus: "RELEASED" });
    expect((await Catalog.getStock(overdue.sku.skuId)).reserved).toBe(0);
    expect((await Order.get(fresh.order.orderId)).status).toBe("PAYMENT_PENDING");
    expect((await Order.get(paid.order.orderId)).status).toBe("PAID");
    expect((await expirePayments({ id: "sched-2", time: "" })).canceled).toEqual([]);
  });
});

describe("reservation reconciliation", () => {
  it("reports drift and corrects it only when asked", async () => {
    const { sku } = await placeOrder(2);
    const { doc, tableName } = db();
    await doc.send(new UpdateCommand({ TableName: tableName, Key: keys.sku(sku.skuId), UpdateExpression: "SET reserved = :r", ExpressionAttributeValues: { ":r": 7 } }));
    const report = await reconcile({});
    expect(report.drifts).toContainEqual({ skuId: sku.skuId, recorded: 7, expected: 2, corrected: false });
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(7);
    const fixed = await reconcile({ fix: true });
    expect(fixed.drifts).toContainEqual({ skuId: sku.skuId, recorded: 7, expected: 2, corrected: true });
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 2, available: 8 });
    expect((await reconcile({})).drifts.find((d) => d.skuId === sku.skuId)).toBeUndefined();
  });
});
