import { beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { Order } from "../../core/order/index.js";
import { checkoutRequest, codeOf, DELIVERED_ORDER_HISTORY, scanTable, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

async function placeOrder(qty = 2, onHand = 10) {
  const sku = await seedSku({ onHand });
  const { order } = await Order.checkout(checkoutRequest([{ ...sku, qty }]), who);
  return { sku, order };
}

async function history(orderId: string) {
  return (await Order.events(orderId, { limit: 100 })).items;
}

function expectGapless(events: { seq: number }[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

beforeAll(async () => {
  await freshTable("transitions");
});

describe("cancel", () => {
  it("cancels, releases the reservation once and appends ORDER_CANCELED + INVENTORY_RELEASED", async () => {
    const { sku, order } = await placeOrder(3);
    const result = await Order.cancel(order.orderId, { reason: "changed my mind" }, who);
    expect(result.order).toMatchObject({
      status: "CANCELED",
      reservationStatus: "RELEASED",
      cancelReason: "changed my mind",
      version: 5,
    });
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 0, available: 10 });
    const events = await history(order.orderId);
    expect(events.slice(3).map((e) => [e.type, e.fromStatus, e.toStatus])).toEqual([
      ["ORDER_CANCELED", "PAYMENT_PENDING", "CANCELED"],
      ["INVENTORY_RELEASED", "CANCELED", "CANCELED"],
    ]);
    expectGapless(events);
  });

  it("releases exactly once under 5 concurrent cancels, and a repeat cancel changes nothing", async () => {
    const { sku, order } = await placeOrder(4);
    const results = await Promise.all(Array.from({ length: 5 }, () => Order.cancel(order.orderId, {}, who)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results.every((r) => r.order.status === "CANCELED")).toBe(true);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 0, available: 10 });
    const again = await Order.cancel(order.orderId, {}, who);
    expect(again.changed).toBe(false);
    expect(await history(order.orderId)).toHaveLength(5);
  });

  it("refuses to cancel a paid order with INVALID_TRANSITION and changes nothing", async () => {
    const { order } = await placeOrder();
    await Order.applyExternalEvent(order.orderId, { type: "PAYMENT_SUCCEEDED", externalId: "pay-1" }, who);
    const before = await scanTable();
    expect(await codeOf(Order.cancel(order.orderId, {}, who))).toBe("INVALID_TRANSITION");
    expect(await scanTable()).toEqual(before);
  });

  it("answers NOT_FOUND for an unknown order", async () => {
    expect(await codeOf(Order.cancel("01NOPE", {}, who))).toBe("NOT_FOUND");
  });
});

describe("external events", () => {
  it("walks the whole lifecycle with one event per transition and gapless seq; shipping consumes the reservation", async () => {
    const { sku, order } = await placeOrder(2);
    const steps = [
      ["PAYMENT_SUCCEEDED", "PAID"],
      ["READY_TO_SHIP", "READY_TO_SHIP"],
      ["SHIPPED", "SHIPPED"],
      ["DELIVERED", "DELIVERED"],
      ["REFUND_REQUESTED", "REFUND_PENDING"],
      ["REFUNDED", "REFUNDED"],
    ] as const;
    for (const [type, status] of steps) {
      const result = await Order.applyExternalEvent(order.orderId, { type, externalId: `${type}-1` }, who);
      expect(result.order.status).toBe(status);
      if (type === "SHIPPED")
        expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    }
    const events = await history(order.orderId);
    expect(events.map((e) => e.type)).toEqual([...DELIVERED_ORDER_HISTORY, "REFUND_REQUESTED", "REFUNDED"]);
    expectGapless(events);
    expect((await Order.get(order.orderId)).version).toBe(events.length);
    expect(
      await codeOf(Order.applyExternalEvent(order.orderId, { type: "PAYMENT_SUCCEEDED", externalId: "late" }, who)),
    ).toBe("INVALID_TRANSITION");
  });

  it("treats the same external event delivered again as a no-op", async () => {
    const { order } = await placeOrder();
    const first = await Order.applyExternalEvent(
      order.orderId,
      { type: "PAYMENT_SUCCEEDED", externalId: "pay-9" },
      who,
    );
    const second = await Order.applyExternalEvent(
      order.orderId,
      { type: "PAYMENT_SUCCEEDED", externalId: "pay-9" },
      who,
    );
    expect(second.changed).toBe(false);
    expect(second.order).toEqual(first.order);
    expect(await history(order.orderId)).toHaveLength(4);
  });

  it("applies concurrent duplicates of one external event once", async () => {
    const { order } = await placeOrder();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        Order.applyExternalEvent(order.orderId, { type: "PAYMENT_SUCCEEDED", externalId: "pay-storm" }, who),
      ),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await history(order.orderId)).toHaveLength(4);
  });

  it("compensates a failed payment: cancels and releases stock exactly once", async () => {
    const { sku, order } = await placeOrder(5);
    const result = await Order.applyExternalEvent(order.orderId, { type: "PAYMENT_FAILED", externalId: "pay-x" }, who);
    expect(result.order).toMatchObject({
      status: "CANCELED",
      reservationStatus: "RELEASED",
      cancelReason: "PAYMENT_FAILED",
    });
    expect((await history(order.orderId)).slice(3).map((e) => e.type)).toEqual([
      "PAYMENT_FAILED",
      "ORDER_CANCELED",
      "INVENTORY_RELEASED",
    ]);
    await Order.applyExternalEvent(order.orderId, { type: "PAYMENT_FAILED", externalId: "pay-x" }, who);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 0, available: 10 });
  });

  it("refuses an out-of-order event and writes nothing", async () => {
    const { order } = await placeOrder();
    const before = await scanTable();
    expect(await codeOf(Order.applyExternalEvent(order.orderId, { type: "SHIPPED", externalId: "shp-1" }, who))).toBe(
      "INVALID_TRANSITION",
    );
    expect(await scanTable()).toEqual(before);
  });

  it("releases the reservation when goods that never shipped are refunded", async () => {
    const { sku, order } = await placeOrder(2);
    for (const type of ["PAYMENT_SUCCEEDED", "REFUND_REQUESTED", "REFUNDED"] as const)
      await Order.applyExternalEvent(order.orderId, { type }, who);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 10, reserved: 0 });
    expect((await history(order.orderId)).at(-1)?.type).toBe("INVENTORY_RELEASED");
  });

  it("cancels an unpaid order after its payment deadline, and a paid one never", async () => {
    const { sku, order } = await placeOrder(1);
    const early = await Order.expirePayment(order.orderId, new Date(), who);
    expect(early.changed).toBe(false);
    const late = new Date(Date.parse(order.paymentDueAt!) + 1000);
    const expired = await Order.expirePayment(order.orderId, late, who);
    expect(expired.order).toMatchObject({ status: "CANCELED", cancelReason: "PAYMENT_TIMEOUT" });
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(0);

    const paid = await placeOrder(1);
    await Order.applyExternalEvent(paid.order.orderId, { type: "PAYMENT_SUCCEEDED" }, who);
    expect((await Order.expirePayment(paid.order.orderId, late, who)).order.status).toBe("PAID");
  });
});

describe("queries", () => {
  it("lists a user's orders newest first with cursor pagination", async () => {
    const sku = await seedSku({ onHand: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await Order.checkout(checkoutRequest([sku], { userId: "lister" }), who)).order.orderId);
    const first = await Order.listByUser({ userId: "lister", limit: "2" });
    expect(first.items.map((o) => o.orderId)).toEqual([ids[4], ids[3]]);
    const second = await Order.listByUser({ userId: "lister", limit: "2", cursor: first.nextCursor! });
    const third = await Order.listByUser({ userId: "lister", limit: "2", cursor: second.nextCursor! });
    expect([...second.items, ...third.items].map((o) => o.orderId)).toEqual([ids[2], ids[1], ids[0]]);
    expect(await codeOf(Order.listByUser({ userId: "someone-else", cursor: first.nextCursor! }))).toBe(
      "VALIDATION_ERROR",
    );
  });

  it("pages an order's history in seq order", async () => {
    const { order } = await placeOrder();
    await Order.cancel(order.orderId, {}, who);
    const page1 = await Order.events(order.orderId, { limit: "3" });
    const page2 = await Order.events(order.orderId, { limit: "3", cursor: page1.nextCursor! });
    expect([...page1.items, ...page2.items].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page2.nextCursor).toBeNull();
  });
});
