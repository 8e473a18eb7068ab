import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { Cart } from "../../core/cart/index.js";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { checkoutRequest, scanTable, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

beforeAll(async () => {
  await freshTable("checkout");
});

describe("checkout", () => {
  it("creates the order, its items with price snapshots and the three creation events, and reserves stock", async () => {
    const a = await seedSku({ price: 12000, onHand: 5 });
    const b = await seedSku({ price: 3000, onHand: 5 });
    const request = checkoutRequest([
      { ...a, qty: 2 },
      { ...b, qty: 3 },
    ]);
    const { order, replayed } = await Order.checkout(request, who);
    expect(replayed).toBe(false);
    expect(order.status).toBe("PAYMENT_PENDING");
    expect(order.totalAmount).toBe(2 * 12000 + 3 * 3000);
    expect(
      order.items.map((i) => [i.skuId, i.qty, i.itemTotalAmount, i.priceSnapshot.offerId, i.priceSnapshot.unitPrice]),
    ).toEqual([
      [a.skuId, 2, 24000, a.offerId, 12000],
      [b.skuId, 3, 9000, b.offerId, 3000],
    ]);
    expect(await Catalog.getStock(a.skuId)).toMatchObject({ onHand: 5, reserved: 2, available: 3 });
    expect(await Catalog.getStock(b.skuId)).toMatchObject({ onHand: 5, reserved: 3, available: 2 });
    const history = await Order.events(order.orderId, {});
    expect(history.items.map((e) => [e.seq, e.type, e.fromStatus, e.toStatus])).toEqual([
      [1, "ORDER_CREATED", null, "CREATED"],
      [2, "INVENTORY_RESERVED", "CREATED", "CREATED"],
      [3, "PAYMENT_REQUESTED", "CREATED", "PAYMENT_PENDING"],
    ]);
    expect(await Order.get(order.orderId)).toEqual(order);
  });

  it("replays the same order for the same key and request, without reserving again", async () => {
    const sku = await seedSku({ onHand: 5 });
    const request = checkoutRequest([{ ...sku, qty: 2 }]);
    const first = await Order.checkout(request, who);
    const reordered = { ...request, paymentMethod: "CARD", userId: "u-1" };
    const second = await Order.checkout(reordered, who);
    expect(second.replayed).toBe(true);
    expect(second.order).toEqual(first.order);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(2);
  });

  it("refuses the same key with a different request (quantity, user or lines)", async () => {
    const sku = await seedSku({ onHand: 5 });
    const request = checkoutRequest([{ ...sku, qty: 1 }]);
    await Order.checkout(request, who);
    for (const changed of [
      { ...request, items: [{ ...request.items[0]!, qty: 2 }] },
      { ...request, userId: "u-2" },
    ]) {
      expect((await rejection(Order.checkout(changed, who))).code).toBe("IDEMPOTENCY_KEY_REUSED");
    }
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(1);
  });

  it("answers PRICE_CHANGED listing every changed line, stores nothing, and lets the client retry the same key", async () => {
    const a = await seedSku({ price: 1000 });
    const b = await seedSku({ price: 2000 });
    const c = await seedSku({ price: 3000 });
    await Catalog.putOffer(a.skuId, { offerId: "off-new-a", unitPrice: 1100, currency: "KRW" });
    await Catalog.putOffer(c.skuId, { offerId: c.offerId, unitPrice: 2900, currency: "KRW" });
    const before = await scanTable();
    const request = checkoutRequest([a, b, c]);
    const error = await rejection(Order.checkout(request, who));
    expect(error.code).toBe("PRICE_CHANGED");
    expect(error.details.items).toEqual([
      {
        skuId: a.skuId,
        expectedOfferId: a.offerId,
        expectedUnitPrice: 1000,
        currentOfferId: "off-new-a",
        currentUnitPrice: 1100,
      },
      {
        skuId: c.skuId,
        expectedOfferId: c.offerId,
        expectedUnitPrice: 3000,
        currentOfferId: c.offerId,
        currentUnitPrice: 2900,
      },
    ]);
    expect(await scanTable()).toEqual(before);
    // after re-approval the same key goes through
    const approved = {
      ...request,
      items: [
        { skuId: a.skuId, qty: 1, offerId: "off-new-a", unitPrice: 1100 },
        { skuId: b.skuId, qty: 1, offerId: b.offerId, unitPrice: 2000 },
        { skuId: c.skuId, qty: 1, offerId: c.offerId, unitPrice: 2900 },
      ],
    };
    expect((await Order.checkout(approved, who)).order.totalAmount).toBe(1100 + 2000 + 2900);
  });

  it("answers OFFER_UNAVAILABLE for a SKU without a current offer", async () => {
    const error = await rejection(
      Order.checkout(checkoutRequest([{ skuId: "sku-none", offerId: "off-x", unitPrice: 10 }]), who),
    );
    expect(error.code).toBe("OFFER_UNAVAILABLE");
  });

  it("answers OUT_OF_STOCK with requested/available and leaves every SKU untouched", async () => {
    const plenty = await seedSku({ onHand: 10 });
    const scarce = await seedSku({ onHand: 1 });
    const before = await scanTable();
    const error = await rejection(
      Order.checkout(
        checkoutRequest([
          { ...plenty, qty: 3 },
          { ...scarce, qty: 2 },
        ]),
        who,
      ),
    );
    expect(error.code).toBe("OUT_OF_STOCK");
    expect(error.details.items).toEqual([{ skuId: scarce.skuId, requested: 2, available: 1 }]);
    expect(await scanTable()).toEqual(before);
    expect(await Catalog.getStock(plenty.skuId)).toMatchObject({ reserved: 0, available: 10 });
  });

  it("checks out a stored cart, and refuses a cart of another user", async () => {
    const sku = await seedSku({ price: 500 });
    await Cart.put("cart-77", {
      userId: "u-1",
      currency: "KRW",
      items: [{ skuId: sku.skuId, qty: 4, offerId: sku.offerId, unitPrice: 500 }],
    });
    const { items: _items, ...base } = checkoutRequest([]);
    const { order } = await Order.checkout({ ...base, cartId: "cart-77" }, who);
    expect(order.cartId).toBe("cart-77");
    expect(order.totalAmount).toBe(2000);
    expect(
      (
        await rejection(
          Order.checkout({ ...base, idempotencyKey: "other-user-cart", userId: "u-9", cartId: "cart-77" }, who),
        )
      ).code,
    ).toBe("VALIDATION_ERROR");
    expect(
      (await rejection(Order.checkout({ ...base, idempotencyKey: "no-cart", cartId: "cart-missing" }, who))).code,
    ).toBe("CART_NOT_FOUND");
  });

  it("replays a cart checkout even after the cart changed or was replaced", async () => {
    const sku = await seedSku({ price: 300 });
    const line = { skuId: sku.skuId, qty: 1, offerId: sku.offerId, unitPrice: 300 };
    await Cart.put("cart-replay", { userId: "u-1", currency: "KRW", items: [line] });
    const { items: _items, ...base } = checkoutRequest([], { cartId: "cart-replay" });
    const first = await Order.checkout(base, who);
    await Cart.put("cart-replay", { userId: "u-1", currency: "KRW", items: [{ ...line, qty: 3 }] });
    const again = await Order.checkout(base, who);
    expect(again.replayed).toBe(true);
    expect(again.order).toEqual(first.order);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(1);
    expect((await rejection(Order.checkout({ ...base, paymentMethod: "BANK_TRANSFER" }, who))).code).toBe(
      "IDEMPOTENCY_KEY_REUSED",
    );
  });

  it("refuses an order total beyond what money amounts may hold", async () => {
    const sku = await seedSku({ price: 1_000_000_000_000 });
    const lines = Array.from({ length: 2 }, () => ({ ...sku, qty: 999 }));
    const request = checkoutRequest(lines, {
      items: lines.map((l, i) => ({ skuId: `${l.skuId}-${i}`, qty: 999, offerId: l.offerId, unitPrice: l.unitPrice })),
    });
    expect((await rejection(Order.checkout(request, who))).code).toBe("VALIDATION_ERROR");
  });

  it("names both currencies when the offer is in another currency than the order", async () => {
    const sku = await seedSku({ price: 1000, currency: "USD" });
    const error = await rejection(Order.checkout(checkoutRequest([sku]), who));
    expect(error.code).toBe("PRICE_CHANGED");
    expect(error.details.items).toEqual([
      {
        skuId: sku.skuId,
        expectedOfferId: sku.offerId,
        expectedUnitPrice: 1000,
        currentOfferId: sku.offerId,
        currentUnitPrice: 1000,
        expectedCurrency: "KRW",
        currentCurrency: "USD",
      },
    ]);
  });

  it("ends in 409 when the price changes between the customer's quote and the write", async () => {
    const sku = await seedSku({ price: 700, onHand: 5 });
    const { client, tableName } = db();
    // A catalog update lands just before the checkout's transaction reaches DynamoDB.
    client.middlewareStack.add(
      (nextHandler, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand") {
          client.middlewareStack.remove("inject-price-change");
          await db().doc.send(
            new UpdateCommand({
              TableName: tableName,
              Key: keys.sku(sku.skuId),
              UpdateExpression: "SET unitPrice = :p",
              ExpressionAttributeValues: { ":p": 750 },
            }),
          );
        }
        return nextHandler(args);
      },
      { step: "initialize", name: "inject-price-change" },
    );
    const error = await rejection(Order.checkout(checkoutRequest([sku]), who));
    expect(error.code).toBe("PRICE_CHANGED");
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(0);
  });

  /** Fails the first `times` TransactWriteItems calls with `conflict(actionCount)`, then checks checkout still succeeds once. */
  async function checkoutThroughConflicts(times: number, conflict: (actionCount: number) => Error) {
    const sku = await seedSku({ onHand: 3 });
    const { client } = db();
    let conflicts = 0;
    client.middlewareStack.add(
      (nextHandler, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand" && conflicts < times) {
          conflicts++;
          throw conflict((args.input as { TransactItems: unknown[] }).TransactItems.length);
        }
        return nextHandler(args);
      },
      { step: "initialize", name: "inject-conflict" },
    );
    try {
      const { order } = await Order.checkout(checkoutRequest([sku]), who);
      expect(order.status).toBe("PAYMENT_PENDING");
      expect(conflicts).toBe(times);
      expect((await Catalog.getStock(sku.skuId)).reserved).toBe(1);
    } finally {
      client.middlewareStack.remove("inject-conflict");
    }
  }

  it("retries a TransactionConflictException with backoff until it succeeds", async () => {
    await checkoutThroughConflicts(2, () =>
      Object.assign(new Error("Transaction is ongoing for the item"), { name: "TransactionConflictException" }),
    );
  });

  it("retries a transaction DynamoDB cancels for a conflict (CancellationReasons TransactionConflict)", async () => {
    await checkoutThroughConflicts(
      3,
      (actionCount) =>
        new TransactionCanceledException({
          message:
            "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None, ...]",
          $metadata: {},
          CancellationReasons: Array.from({ length: actionCount }, (_, i) =>
            i === 0
              ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }
              : { Code: "None" },
          ),
        }),
    );
  });

  it("sells exactly the stock under 60 concurrent checkouts of 20 units", async () => {
    const sku = await seedSku({ onHand: 20 });
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () => Order.checkout(checkoutRequest([sku]), who)),
    );
    const created = results.filter((r) => r.status === "fulfilled");
    const rejected = results.flatMap((r) => (r.status === "rejected" ? [r.reason as DomainError] : []));
    expect(created).toHaveLength(20);
    expect(rejected.every((e) => e.code === "OUT_OF_STOCK")).toBe(true);
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ onHand: 20, reserved: 20, available: 0 });
    const orders = (await scanTable()).filter(
      (i) => i.entity === "Order" && (i.items as { skuId: string }[])[0]?.skuId === sku.skuId,
    );
    expect(orders).toHaveLength(20);
  });
});
