import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { checkoutRequest, codeOf, scanTable, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

type Sku = Awaited<ReturnType<typeof seedSku>>;

beforeAll(async () => {
  await freshTable("shards");
});

async function shardItems(skuId: string): Promise<Record<string, unknown>[]> {
  return (await scanTable())
    .filter((i) => i.entity === "Sku" && i.skuId === skuId)
    .sort((a, b) => Number(a.shard ?? 0) - Number(b.shard ?? 0));
}

/** Every shard keeps `available = onHand - reserved` and `0 <= reserved <= onHand`. */
function expectShardInvariants(items: Record<string, unknown>[]) {
  for (const item of items) {
    expect(Number(item.available), JSON.stringify(item)).toBe(Number(item.onHand) - Number(item.reserved));
    expect(Number(item.reserved)).toBeGreaterThanOrEqual(0);
    expect(Number(item.reserved)).toBeLessThanOrEqual(Number(item.onHand));
  }
}

/** Quantity held by the orders of `skuId` whose reservation is still HELD, from the table. */
async function heldQty(skuId: string): Promise<number> {
  const orders = (await scanTable()).filter((i) => i.entity === "Order" && i.reservationStatus === "HELD");
  return orders
    .flatMap((o) => o.items as { skuId: string; qty: number }[])
    .filter((l) => l.skuId === skuId)
    .reduce((s, l) => s + l.qty, 0);
}

/** Runs `count` checkouts of one unit at once and returns what each ended in (order id, or the error code). */
async function concurrentCheckouts(
  sku: Sku,
  count: number,
  userPrefix: string,
): Promise<{ created: string[]; codes: string[]; maxInFlight: number }> {
  let inFlight = 0;
  let maxInFlight = 0;
  const outcomes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const { order } = await Order.checkout(checkoutRequest([sku], { userId: `${userPrefix}-${i}` }), who);
        return order.orderId;
      } catch (error) {
        if (error instanceof DomainError) return `!${error.code}`;
        throw error;
      } finally {
        inFlight--;
      }
    }),
  );
  return {
    created: outcomes.filter((o) => !o.startsWith("!")),
    codes: outcomes.filter((o) => o.startsWith("!")).map((o) => o.slice(1)),
    maxInFlight,
  };
}

describe("hot SKU stock shards", () => {
  it("spreads stock over the shards, each with a copy of the offer, and GET sums them", async () => {
    const sku = await seedSku({ onHand: 0 });
    expect(await Catalog.setStock(sku.skuId, { onHand: 100, shards: 8 })).toEqual({
      skuId: sku.skuId,
      onHand: 100,
      reserved: 0,
      available: 100,
      shards: 8,
    });
    const items = await shardItems(sku.skuId);
    expect(items.map((i) => i.pk)).toEqual([
      keys.sku(sku.skuId).pk,
      ...Array.from({ length: 7 }, (_, k) => keys.skuShard(sku.skuId, k + 1).pk),
    ]);
    expect(items.every((i) => i.offerId === sku.offerId && i.unitPrice === sku.unitPrice && i.currency === "KRW")).toBe(
      true,
    );
    expect(items.map((i) => i.onHand)).toEqual([13, 13, 13, 13, 12, 12, 12, 12]);
    expectShardInvariants(items);
    expect(await Catalog.getStock(sku.skuId)).toEqual({
      skuId: sku.skuId,
      onHand: 100,
      reserved: 0,
      available: 100,
      shards: 8,
    });
    expect(await codeOf(Catalog.setStock(sku.skuId, { onHand: 1, shards: 65 }))).toBe("VALIDATION_ERROR");
  });

  it("spreads concurrent checkouts over the shards, with no unsharded item in their transactions", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 400, shards: 8 });
    const { created, codes, maxInFlight } = await concurrentCheckouts(sku, 40, "spread");
    expect(maxInFlight).toBeGreaterThan(1);
    expect(codes).toEqual([]);
    const items = await shardItems(sku.skuId);
    const used = items.filter((i) => Number(i.reserved) > 0);
    expect(used.length).toBeGreaterThanOrEqual(4);
    expect(items.reduce((s, i) => s + Number(i.reserved), 0)).toBe(created.length);
    // Each line records its shard (absent for shard 0) and that shard holds it.
    const orders = (await scanTable()).filter((i) => i.entity === "Order" && created.includes(String(i.orderId)));
    const perShard = new Map<number, number>();
    for (const o of orders)
      for (const l of o.items as { shard?: number; qty: number }[])
        perShard.set(l.shard ?? 0, (perShard.get(l.shard ?? 0) ?? 0) + l.qty);
    for (const item of items) expect(Number(item.reserved)).toBe(perShard.get(Number(item.shard ?? 0)) ?? 0);
  });

  it("sells exactly the stock under concurrent checkouts, with cancels and re-shards interleaved", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 30, shards: 8 });
    // Round 1: 50 checkouts race for 30 units while the SKU is re-sharded twice.
    const [first, reshardA, reshardB] = await Promise.all([
      concurrentCheckouts(sku, 50, "r1"),
      new Promise((r) => setTimeout(r, 20)).then(() => Catalog.setStock(sku.skuId, { onHand: 30, shards: 3 })),
      new Promise((r) => setTimeout(r, 60)).then(() => Catalog.setStock(sku.skuId, { onHand: 30, shards: 12 })),
    ]);
    expect(first.maxInFlight).toBeGreaterThan(1);
    expect(reshardA.onHand + reshardB.onHand).toBe(60);
    expect(new Set(first.codes)).toEqual(
      new Set(first.codes.filter((c) => c === "OUT_OF_STOCK" || c === "CONCURRENT_MODIFICATION")),
    );
    // Sell whatever a lost race left, one at a time, until the SKU says OUT_OF_STOCK: the total is exactly 30.
    const sold = [...first.created];
    for (;;) {
      const next = await concurrentCheckouts(sku, 1, `r1-tail-${sold.length}`);
      if (next.created.length === 0) {
        expect(next.codes).toEqual(["OUT_OF_STOCK"]);
        break;
      }
      sold.push(...next.created);
    }
    expect(sold).toHaveLength(30);
    // Round 2: cancel 10 of them while 25 more checkouts race for the 10 units that frees, and re-shard again.
    const [, second] = await Promise.all([
      Promise.all(sold.slice(0, 10).map((id) => Order.cancel(id, {}, who))),
      concurrentCheckouts(sku, 25, "r2"),
      Catalog.setStock(sku.skuId, { onHand: 30, shards: 5 }),
    ]);
    const items = await shardItems(sku.skuId);
    expectShardInvariants(items);
    const stock = await Catalog.getStock(sku.skuId);
    expect(stock.onHand).toBe(30);
    expect(stock.reserved).toBe(await heldQty(sku.skuId));
    expect(stock.reserved).toBe(20 + second.created.length);
    expect(stock.reserved).toBeLessThanOrEqual(30);
    expect(second.codes.every((c) => c === "OUT_OF_STOCK" || c === "CONCURRENT_MODIFICATION")).toBe(true);
  });

  it("keeps every shard item counted when two re-shards race", async () => {
    for (let n = 0; n < 8; n++) {
      const sku = await seedSku({ onHand: 0 });
      const results = await Promise.allSettled([
        Catalog.setStock(sku.skuId, { onHand: 80, shards: 8 }),
        Catalog.setStock(sku.skuId, { onHand: 10, shards: 2 }),
      ]);
      expect(results.some((r) => r.status === "fulfilled")).toBe(true);
      const items = await shardItems(sku.skuId);
      const main = items.find((i) => Number(i.shard ?? 0) === 0)!;
      expect(items).toHaveLength(Number(main.shardSlots));
      const stock = await Catalog.getStock(sku.skuId);
      expect(stock.onHand).toBe(items.reduce((sum, i) => sum + Number(i.onHand), 0));
      expect([10, 80]).toContain(stock.onHand);
      for (const item of items)
        if (Number(item.shard ?? 0) >= Number(main.shards)) expect(Number(item.available)).toBe(0);
    }
  });

  it("moves a line to a shard that can cover it when its own shard runs short", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 8, shards: 4 });
    const { order } = await Order.checkout(checkoutRequest([{ ...sku, qty: 5 }]), who);
    const items = await shardItems(sku.skuId);
    expectShardInvariants(items);
    expect(items.reduce((s, i) => s + Number(i.onHand), 0)).toBe(8);
    const holder = items.find((i) => Number(i.reserved) === 5)!;
    expect(Number(holder.shard ?? 0)).toBe(order.items[0]!.shard ?? 0);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 8, reserved: 5, available: 3 });
    expect(await codeOf(Order.checkout(checkoutRequest([{ ...sku, qty: 4 }]), who))).toBe("OUT_OF_STOCK");
  });

  it("releases and consumes on the shard each line recorded", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 40, shards: 8 });
    const { created } = await concurrentCheckouts(sku, 16, "back");
    const orders = await Promise.all(created.map((id) => Order.get(id)));
    const onShard = orders.filter((o) => (o.items[0]!.shard ?? 0) > 0);
    expect(onShard.length).toBeGreaterThan(0);
    const [toCancel, toShip] = onShard;
    const shardOf = (o: typeof toCancel) => Number(o!.items[0]!.shard ?? 0);
    const before = await shardItems(sku.skuId);
    await Order.cancel(toCancel!.orderId, {}, who);
    let after = await shardItems(sku.skuId);
    expect(Number(after[shardOf(toCancel)]!.reserved)).toBe(Number(before[shardOf(toCancel)]!.reserved) - 1);
    if (toShip) {
      const at = await shardItems(sku.skuId);
      for (const type of ["PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED"] as const)
        await Order.applyExternalEvent(toShip.orderId, { type, externalId: `${type}-${toShip.orderId}` }, who);
      after = await shardItems(sku.skuId);
      expect(Number(after[shardOf(toShip)]!.onHand)).toBe(Number(at[shardOf(toShip)]!.onHand) - 1);
      expect(Number(after[shardOf(toShip)]!.reserved)).toBe(Number(at[shardOf(toShip)]!.reserved) - 1);
    }
    expectShardInvariants(after);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(await heldQty(sku.skuId));
  });

  it("changes the offer on every shard at once", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 20, shards: 6 });
    await Catalog.putOffer(sku.skuId, { offerId: "off-sale", unitPrice: 9000, currency: "KRW" });
    const items = await shardItems(sku.skuId);
    expect(items.map((i) => [i.offerId, i.unitPrice])).toEqual(Array.from({ length: 6 }, () => ["off-sale", 9000]));
    expect(await codeOf(Order.checkout(checkoutRequest([sku]), who))).toBe("PRICE_CHANGED");
    const { created, codes } = await concurrentCheckouts({ ...sku, offerId: "off-sale", unitPrice: 9000 }, 12, "sale");
    expect(codes).toEqual([]);
    expect(created).toHaveLength(12);
  });

  it("retires shards when lowered: they keep their reservations, and the stock they free is sold again", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 40, shards: 8 });
    const { created } = await concurrentCheckouts(sku, 16, "retire");
    expect(await Catalog.setStock(sku.skuId, { onHand: 40, shards: 2 })).toMatchObject({
      onHand: 40,
      reserved: 16,
      available: 24,
      shards: 2,
    });
    let items = await shardItems(sku.skuId);
    expect(items).toHaveLength(8);
    for (const item of items.slice(2)) {
      expect(item.retired).toBe(true);
      expect(Number(item.available)).toBe(0);
    }
    await Promise.all(created.map((id) => Order.cancel(id, {}, who)));
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 40, reserved: 0, available: 40, shards: 2 });
    // 39 units in one line: more than the two active shards hold, so stock comes back from the retired ones.
    const { order } = await Order.checkout(checkoutRequest([{ ...sku, qty: 39 }]), who);
    expect((order.items[0]!.shard ?? 0) < 2).toBe(true);
    items = await shardItems(sku.skuId);
    expectShardInvariants(items);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 40, reserved: 39, available: 1 });
    expect(await codeOf(Catalog.setStock(sku.skuId, { onHand: 38, shards: 4 }))).toBe("STOCK_BELOW_RESERVED");
  });

  it("reconciliation sums per shard and fixes only the drifted shard", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 30, shards: 3 });
    await concurrentCheckouts(sku, 6, "recon");
    const { doc, tableName } = db();
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.skuShard(sku.skuId, 2),
        UpdateExpression: "SET reserved = reserved + :x, available = available - :x",
        ExpressionAttributeValues: { ":x": 3 },
      }),
    );
    const report = (await Order.reconcileReservations())!.filter((d) => d.skuId === sku.skuId);
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ shard: 2, corrected: false });
    expect(report[0]!.recorded - report[0]!.expected).toBe(3);
    const fixed = (await Order.reconcileReservations({ fix: true }))!.filter((d) => d.skuId === sku.skuId);
    expect(fixed).toEqual([{ ...report[0], corrected: true }]);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(await heldQty(sku.skuId));
    expect((await Order.reconcileReservations())!.filter((d) => d.skuId === sku.skuId)).toEqual([]);
  });
});
