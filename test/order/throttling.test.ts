import { ProvisionedThroughputExceededException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import type { EventBridgeEvent } from "aws-lambda";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { acquireLease } from "../../core/store/lease.js";
import { keys } from "../../core/store/table.js";
import { UnusableUpstreamEvent } from "../../functions/events/order-events.js";
import { apply as applyPayment } from "../../functions/events/payments.js";
import { withinInvocation } from "../../functions/lambda.js";
import { lambdaContext } from "../../local/lambda.js";
import { setEnv } from "../support/env.js";
import { checkoutRequest, codeOf, scanTable, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

/**
 * DynamoDB Local never throttles, so these tests inject DynamoDB's own throttling answers with a middleware that
 * sits inside the SDK's retry loop (as the service's answers do) and decides per request.
 */
type Decide = (command: string, input: Record<string, unknown>) => "transaction" | "request" | undefined;
let decide: Decide = () => undefined;
const seen: string[] = [];

beforeAll(async () => {
  await freshTable("throttling");
  db().client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const verdict = decide(command, args.input as Record<string, unknown>);
      seen.push(`${command}:${verdict ?? "ok"}`);
      if (verdict === "request")
        throw new ProvisionedThroughputExceededException({
          message: "Throughput exceeds the current capacity",
          $metadata: {},
        });
      if (verdict === "transaction") {
        const items = (args.input as { TransactItems: unknown[] }).TransactItems;
        throw new TransactionCanceledException({
          message: "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError]",
          $metadata: {},
          CancellationReasons: items.map((_, i) =>
            i === 0
              ? { Code: "ThrottlingError", Message: "Throughput exceeds the current capacity" }
              : { Code: "None" },
          ),
        });
      }
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "injectThrottling" },
  );
});

afterEach(() => {
  decide = () => undefined;
  seen.length = 0;
  setEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: undefined });
});

/** Throttles the first `times` transactions (or all of them), whatever they write. */
function throttleTransactions(times = Infinity, touching?: string) {
  let left = times;
  decide = (command, input) => {
    if (command !== "TransactWriteItemsCommand" || left <= 0) return undefined;
    if (touching && !JSON.stringify(input).includes(touching)) return undefined;
    left--;
    return "transaction";
  };
}

let n = 0;
function paymentSucceeded(orderId: string): EventBridgeEvent<string, unknown> {
  return {
    version: "0",
    id: `ev-${++n}`,
    source: "payments",
    "detail-type": "Payment Succeeded",
    account: "1",
    time: new Date().toISOString(),
    region: "local",
    resources: [],
    detail: { orderId, paymentId: `pay-${orderId}` },
  };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("throttling is capacity, not a business answer", () => {
  it("retries a throttled checkout and creates the order once", async () => {
    const sku = await seedSku({ onHand: 5 });
    throttleTransactions(2);
    const { order, replayed } = await Order.checkout(checkoutRequest([sku]), who);
    expect(replayed).toBe(false);
    expect(seen.filter((s) => s === "TransactWriteItemsCommand:transaction")).toHaveLength(2);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(1);
    expect((await Order.get(order.orderId)).status).toBe("PAYMENT_PENDING");
  });

  it("answers CAPACITY_EXCEEDED with a retry delay when throttling outlasts the budget, writes nothing, and the same key then succeeds", async () => {
    const sku = await seedSku({ onHand: 5 });
    const request = checkoutRequest([sku]);
    throttleTransactions();
    const error = await errorOf(Order.checkout(request, who));
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("CAPACITY_EXCEEDED");
    expect((error as DomainError).details.retryAfterSeconds).toBeGreaterThan(0);
    expect(seen.filter((s) => s === "TransactWriteItemsCommand:transaction").length).toBeGreaterThan(2);
    const items = await scanTable();
    expect(items.some((i) => i.idempotencyKey === request.idempotencyKey)).toBe(false);
    expect(items.some((i) => i.pk === keys.idempotency(request.idempotencyKey).pk)).toBe(false);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(0);
    decide = () => undefined;
    const retried = await Order.checkout(request, who);
    expect(retried.replayed).toBe(false);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(1);
  });

  it("gives up at the invocation's deadline, before the function's timeout, though its own budget is not spent", async () => {
    const sku = await seedSku({ onHand: 5 });
    const request = checkoutRequest([sku]);
    throttleTransactions();
    // 1.8 s left in the function: its deadline (less the margin) comes well before the 3 s throttling budget.
    const timeoutMs = 1_800;
    const checkout = withinInvocation(() => Order.checkout(request, who));
    const started = Date.now();
    const error = await errorOf(checkout({}, lambdaContext("orderline-api", timeoutMs)));
    expect(Date.now() - started).toBeLessThan(timeoutMs);
    expect((error as DomainError).code).toBe("CAPACITY_EXCEEDED");
    expect((await scanTable()).some((i) => i.pk === keys.idempotency(request.idempotencyKey).pk)).toBe(false);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(0);
  });

  it("moves a throttled line of a sharded SKU to another shard instead of waiting on the hot one", async () => {
    const sku = await seedSku({ onHand: 0 });
    await Catalog.setStock(sku.skuId, { onHand: 40, shards: 4 });
    const open = keys.skuShard(sku.skuId, 3).pk;
    decide = (command, input) => {
      if (command !== "TransactWriteItemsCommand") return undefined;
      // Marshalled by now: key attributes are { S: "..." }.
      const touched = (input.TransactItems as { Update?: { Key: { pk: { S: string } } } }[]).map(
        (i) => i.Update?.Key.pk.S ?? "",
      );
      return touched.some((pk) => pk.startsWith(keys.sku(sku.skuId).pk) && pk !== open) ? "transaction" : undefined;
    };
    for (let i = 0; i < 4; i++) {
      const { order } = await Order.checkout(checkoutRequest([sku]), who);
      expect(order.items[0]!.shard).toBe(3);
    }
    decide = () => undefined;
    expect(await Catalog.getStock(sku.skuId)).toMatchObject({ reserved: 4, available: 36 });
  });

  it("turns a single request still throttled after the SDK's own retries into CAPACITY_EXCEEDED", async () => {
    const sku = await seedSku({ onHand: 5 });
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    decide = (command) => (command === "GetItemCommand" ? "request" : undefined);
    expect(await codeOf(Order.get(order.orderId))).toBe("CAPACITY_EXCEEDED");
    expect(seen.filter((s) => s === "GetItemCommand:request")).toHaveLength(5);
  });

  it("retries a throttled payment event instead of dead-lettering it, and the sweep never cancels the order it pays", async () => {
    setEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "0.2" });
    const sku = await seedSku({ onHand: 5 });
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    throttleTransactions();
    const error = await errorOf(applyPayment(paymentSucceeded(order.orderId)));
    expect(error).not.toBeInstanceOf(UnusableUpstreamEvent);
    expect((error as DomainError).code).toBe("CAPACITY_EXCEEDED");
    await new Promise((r) => setTimeout(r, 300));
    // The sweep meets the same throttling: it reports the order and goes on, cancelling nothing.
    const throttledSweep = await Order.expireOverduePayments(new Date(), who);
    expect(throttledSweep.failed).toContainEqual(
      expect.objectContaining({ orderId: order.orderId, code: "CAPACITY_EXCEEDED" }),
    );
    expect((await Order.get(order.orderId)).status).toBe("PAYMENT_PENDING");
    decide = () => undefined;
    // EventBridge redelivers the same event: it applies.
    expect(await applyPayment(paymentSucceeded(order.orderId))).toEqual({ outcome: "applied" });
    const sweep = await Order.expireOverduePayments(new Date(), who);
    expect(sweep.canceled).not.toContain(order.orderId);
    expect((await Order.get(order.orderId)).status).toBe("PAID");
  });

  it("leaves an order past its deadline alone for the grace period, so a payment whose event is still being retried wins", async () => {
    setEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "0.2" });
    const grace = process.env.ORDERLINE_PAYMENT_GRACE_SECONDS;
    setEnv({ ORDERLINE_PAYMENT_GRACE_SECONDS: "60" });
    try {
      const sku = await seedSku({ onHand: 5 });
      const { order } = await Order.checkout(checkoutRequest([sku]), who);
      throttleTransactions();
      expect(await codeOf(applyPayment(paymentSucceeded(order.orderId)))).toBe("CAPACITY_EXCEEDED");
      decide = () => undefined;
      await new Promise((r) => setTimeout(r, 300));
      const sweep = await Order.expireOverduePayments(new Date(), who);
      expect(sweep.canceled).not.toContain(order.orderId);
      expect(await Order.expirePayment(order.orderId, new Date(), who)).toMatchObject({ changed: false });
      expect(await applyPayment(paymentSucceeded(order.orderId))).toEqual({ outcome: "applied" });
      // Past the grace, an order still unpaid is cancelled.
      const unpaid = (await Order.checkout(checkoutRequest([sku]), who)).order;
      const later = new Date(Date.now() + 61_000);
      expect((await Order.expireOverduePayments(later, who)).canceled).toContain(unpaid.orderId);
      expect((await Order.get(order.orderId)).status).toBe("PAID");
    } finally {
      setEnv({ ORDERLINE_PAYMENT_GRACE_SECONDS: grace });
    }
  });

  it("sweeps every overdue order over all deadline shards, going on past a throttled one", async () => {
    setEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "0.2" });
    const sku = await seedSku({ onHand: 50 });
    const orders = await Promise.all(
      Array.from({ length: 30 }, (_, i) => Order.checkout(checkoutRequest([sku], { userId: `sweep-${i}` }), who)),
    );
    const ids = orders.map((o) => o.order.orderId);
    const items = (await scanTable()).filter((i) => ids.includes(String(i.orderId)) && i.entity === "Order");
    expect(new Set(items.map((i) => i.gsi2pk)).size).toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 300));
    const stuck = ids[0]!;
    throttleTransactions(Infinity, keys.order(stuck).pk);
    const sweep = await Order.expireOverduePayments(new Date(), who);
    expect(sweep.failed).toEqual([expect.objectContaining({ orderId: stuck, code: "CAPACITY_EXCEEDED" })]);
    expect(new Set(sweep.canceled)).toEqual(new Set(ids.slice(1)));
    decide = () => undefined;
    const next = await Order.expireOverduePayments(new Date(), who);
    expect(next.canceled).toEqual([stuck]);
    expect((await Catalog.getStock(sku.skuId)).reserved).toBe(0);
  });

  it("stops a sweep at its time budget and leaves the rest for the next run", async () => {
    setEnv({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "0.1" });
    const sku = await seedSku({ onHand: 5 });
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    await new Promise((r) => setTimeout(r, 200));
    const spent = await Order.expireOverduePayments(new Date(), who, { deadline: Date.now() - 1 });
    expect(spent).toMatchObject({ unfinished: true, canceled: [], examined: 0 });
    expect((await Order.get(order.orderId)).status).toBe("PAYMENT_PENDING");
    expect((await Order.expireOverduePayments(new Date(), who)).canceled).toContain(order.orderId);
  });

  it("never runs two sweeps at once", async () => {
    const lease = await acquireLease("ExpireUnpaidOrders", 60_000);
    expect(lease).toBeDefined();
    expect((await Order.expireOverduePayments(new Date(), who)).skipped).toBe(true);
    const [a, b] = await Promise.all([
      acquireLease("ReconcileReservations", 60_000),
      acquireLease("ReconcileReservations", 60_000),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    // While a reconciliation holds its lease, another run does nothing and says so.
    expect(await Order.reconcileReservations()).toBeUndefined();
    await (a ?? b)!.release();
    expect(await Order.reconcileReservations()).toEqual(expect.any(Array));
    await lease!.release();
    expect((await Order.expireOverduePayments(new Date(), who)).skipped).toBe(false);
  });
});
