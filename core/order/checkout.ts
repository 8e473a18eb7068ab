import { createHash } from "node:crypto";
import { monotonicFactory, ulid } from "ulid";
import * as z from "zod";
import { cartFromItem } from "../cart/snapshot.js";
import { knownShards, moveStock, pickShard, readSkuShards, type SkuShards, totalsOf } from "../catalog/shards.js";
import { reserveLineUpdate } from "../catalog/store-reservations.js";
import {
  CapacityExceededError,
  ConcurrencyError,
  IdempotencyKeyReusedError,
  NotFoundError,
  OfferUnavailableError,
  OutOfStockError,
  type PriceChange,
  PriceChangedError,
  type StockShortage,
  ValidationError,
} from "../errors.js";
import { deadlineAfter } from "../retry.js";
import { type Actor, Currency, exactlyOneOfEach, type FieldChoices, Id } from "../schema.js";
import { db } from "../store/client.js";
import { getItem, getItems } from "../store/items.js";
import { keys } from "../store/table.js";
import { type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { validate } from "../validate.js";
import { paymentWindowSeconds } from "./config.js";
import { eventPut } from "./history.js";
import { type OrderLineInput, OrderLines } from "./lines.js";
import { type Order, orderFromItem, ShippingAddress } from "./model.js";
import type { PlannedEvent } from "./status.js";
import { idempotencyPut, orderPut } from "./store.js";

export const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

/** The checkout fields; `CheckoutInput` adds the cross-field rules. */
export const CheckoutFields = z.strictObject({
  userId: Id,
  idempotencyKey: IdempotencyKey,
  items: OrderLines.optional(),
  cartId: Id.optional(),
  currency: Currency,
  shippingAddressId: Id.optional(),
  shippingAddress: ShippingAddress.optional(),
  paymentMethod: z.string().regex(/^[A-Z][A-Z0-9_]{1,31}$/, "must be an UPPER_SNAKE method such as CARD"),
});

/** Where the lines come from and where the order goes: exactly one of each pair (the document's `oneOf`s). */
export const CHECKOUT_CHOICES = [
  ["items", "cartId"],
  ["shippingAddressId", "shippingAddress"],
] as const satisfies FieldChoices;

export const CheckoutInput = CheckoutFields.superRefine(exactlyOneOfEach(CHECKOUT_CHOICES));
export type CheckoutInput = z.infer<typeof CheckoutInput>;

export interface CheckoutResult {
  order: Order;
  /** True when the key had already created this order and nothing new was written. */
  replayed: boolean;
}

const CREATION_EVENTS: PlannedEvent[] = [
  { type: "ORDER_CREATED", fromStatus: null, toStatus: "CREATED" },
  { type: "INVENTORY_RESERVED", fromStatus: "CREATED", toStatus: "CREATED" },
  { type: "PAYMENT_REQUESTED", fromStatus: "CREATED", toStatus: "PAYMENT_PENDING" },
];

/**
 * Attempts when a condition failed but a fresh read shows nothing to explain it: the state moved back, or the
 * line's stock shard ran short while the SKU as a whole has stock (the next attempt uses a shard that can cover it).
 */
const MAX_CHECKOUT_ATTEMPTS = 4;

/** Throttling of a checkout is retried for this long in all (then CAPACITY_EXCEEDED)... */
const THROTTLE_BUDGET_MS = 3_000;
/** ...and, on a sharded SKU, for this long on one shard before the line moves to another. */
const SHARD_THROTTLE_BUDGET_MS = 150;

/** The stock shard each line reserves on, by SKU. */
export type ShardPlan = Map<string, number>;

/**
 * Sorted, canonical JSON of everything that defines a checkout request, so "same key, same request" is decided
 * by content and not by field order or line order. A cart checkout is defined by its cart id, not by the cart's
 * lines at the time: the cart may change or be emptied after the order, and a retry must still replay.
 */
export function requestHash(input: CheckoutInput, lines: OrderLineInput[]): string {
  const canonical = {
    userId: input.userId,
    cartId: input.cartId ?? null,
    currency: input.currency,
    lines: input.cartId
      ? null
      : [...lines].sort((a, b) => (a.skuId < b.skuId ? -1 : 1)).map((l) => [l.skuId, l.qty, l.offerId, l.unitPrice]),
    shippingAddressId: input.shippingAddressId ?? null,
    shippingAddress: input.shippingAddress
      ? Object.entries(input.shippingAddress).sort(([a], [b]) => (a < b ? -1 : 1))
      : null,
    paymentMethod: input.paymentMethod,
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** Order ids sort by creation time, strictly increasing within one process (newest-first lists stay exact). */
const nextOrderId = monotonicFactory();

/** The largest order total accepted, in minor units: far below Number.MAX_SAFE_INTEGER. */
const MAX_ORDER_TOTAL = 1e15;

export function buildOrder(
  input: CheckoutInput,
  lines: OrderLineInput[],
  now: Date,
  shards: ShardPlan = new Map(),
): Order {
  const at = now.toISOString();
  const items = lines.map((line) => {
    const shard = shards.get(line.skuId) ?? 0;
    return {
      orderItemId: ulid(),
      skuId: line.skuId,
      qty: line.qty,
      itemTotalAmount: line.qty * line.unitPrice,
      priceSnapshot: { offerId: line.offerId, unitPrice: line.unitPrice, capturedAt: at },
      // Only a line on another shard than the main item records it: release and consume go back to it.
      ...(shard === 0 ? {} : { shard }),
    };
  });
  const shippingFee = 0;
  const discountAmount = 0;
  const subtotal = items.reduce((sum, item) => sum + item.itemTotalAmount, 0);
  return {
    orderId: nextOrderId(now.getTime()),
    userId: input.userId,
    status: "PAYMENT_PENDING",
    currency: input.currency,
    totalAmount: subtotal + shippingFee - discountAmount,
    shippingFee,
    discountAmount,
    idempotencyKey: input.idempotencyKey,
    cartId: input.cartId ?? null,
    shippingAddressId: input.shippingAddressId ?? null,
    shippingAddress: input.shippingAddress ?? null,
    paymentMethod: input.paymentMethod,
    items,
    reservationStatus: "HELD",
    paymentDueAt: new Date(now.getTime() + paymentWindowSeconds() * 1000).toISOString(),
    cancelReason: null,
    version: CREATION_EVENTS.length,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The actions of a checkout's single transaction, in this order: one conditional reserve per line (also asserting
 * the offer the customer saw), the idempotency item, the order, its three creation events. The order matters:
 * `checkout` reads the idempotency item's cancellation reason at index `lines.length`.
 */
export function checkoutActions(
  tableName: string,
  order: Order,
  lines: OrderLineInput[],
  requestHash: string,
  who: Actor,
): TransactItem[] {
  const reserves = lines.map((line, i) =>
    reserveLineUpdate(tableName, line, order.items[i]?.shard ?? 0, order.currency),
  );
  const events = eventPut(
    tableName,
    order,
    1,
    CREATION_EVENTS,
    { lines: lines.length, totalAmount: order.totalAmount },
    who,
    order.createdAt,
  );
  return [...reserves, idempotencyPut(tableName, order, requestHash), orderPut(tableName, order), events];
}

/**
 * Creates an order, all or nothing, in one TransactWriteItems: per line a conditional reserve on the SKU item
 * that also asserts the offer is exactly the one the customer saw; the order with its items; its three
 * creation events; and the idempotency item. On the happy path of a direct-items checkout this is the only
 * round trip. Reads happen only to explain a cancelled transaction or to replay a stored order.
 */
export async function checkout(rawInput: unknown, who: Actor): Promise<CheckoutResult> {
  const input = validate(CheckoutInput, rawInput);
  let lines: OrderLineInput[];
  if (input.items) {
    lines = input.items;
  } else {
    const { cart, idempotency } = await readCartAndKey(input);
    // A key already used replays (or is refused) before the cart matters: it may have changed since.
    if (idempotency) return replay(idempotency, requestHash(input, []));
    lines = linesOfCart(input, cart);
  }
  if (lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0) > MAX_ORDER_TOTAL)
    throw new ValidationError("the order total is too large", [
      { path: "items", message: `the total must not exceed ${MAX_ORDER_TOTAL}` },
    ]);
  const hash = requestHash(input, lines);
  const { tableName } = db();

  const pick = (): ShardPlan => new Map(lines.map((l) => [l.skuId, pickShard(l.skuId)]));
  let shards = pick();
  // Moving to other shards stops at the throttling budget, or sooner at the invocation's deadline.
  const throttleDeadline = deadlineAfter(THROTTLE_BUDGET_MS);
  for (let attempt = 1; attempt <= MAX_CHECKOUT_ATTEMPTS; attempt++) {
    const order = buildOrder(input, lines, new Date(), shards);
    const actions = checkoutActions(tableName, order, lines, hash, who);
    const idempotencyIndex = lines.length;
    // A line on a sharded SKU that is throttled moves to another shard instead of waiting for the same one.
    const spread = lines.some((l) => knownShards(l.skuId) > 1);
    try {
      await transactWrite(actions, spread ? { throttleBudgetMs: SHARD_THROTTLE_BUDGET_MS } : {});
      return { order, replayed: false };
    } catch (error) {
      if (error instanceof CapacityExceededError && spread && Date.now() < throttleDeadline) {
        shards = pick();
        attempt--;
        continue;
      }
      if (!(error instanceof TransactionCancelled)) throw error;
      if (error.failed(idempotencyIndex)) {
        const previous = error.actions[idempotencyIndex]?.item;
        return replay(previous, hash);
      }
      shards = await explainRejection(lines, input.currency, shards);
    }
  }
  throw new ConcurrencyError("stock or offers kept changing during checkout; retry the request");
}

/** The cart and the idempotency item of a cart checkout, in one round trip. */
async function readCartAndKey(
  input: CheckoutInput,
): Promise<{ cart: Record<string, unknown> | undefined; idempotency: Record<string, unknown> | undefined }> {
  const cartKey = keys.cart(input.cartId as string);
  const idempotencyKey = keys.idempotency(input.idempotencyKey);
  const found = await getItems([cartKey, idempotencyKey]);
  return { cart: found.find((i) => i.pk === cartKey.pk), idempotency: found.find((i) => i.pk === idempotencyKey.pk) };
}

function linesOfCart(input: CheckoutInput, item: Record<string, unknown> | undefined): OrderLineInput[] {
  if (!item) throw new NotFoundError("cart", input.cartId as string, "CART_NOT_FOUND");
  const cart = cartFromItem(item);
  if (cart.userId !== input.userId)
    throw new ValidationError("the cart belongs to another user", [
      { path: "cartId", message: "cart belongs to another user" },
    ]);
  if (cart.currency !== input.currency)
    throw new ValidationError(`the cart is in ${cart.currency}`, [
      { path: "currency", message: `cart currency is ${cart.currency}` },
    ]);
  return cart.items;
}

async function replay(previous: Record<string, unknown> | undefined, hash: string): Promise<CheckoutResult> {
  if (!previous || previous.requestHash !== hash) throw new IdempotencyKeyReusedError();
  const stored = await getItem(keys.order(String(previous.orderId)));
  if (!stored) throw new ConcurrencyError(`order ${String(previous.orderId)} of this idempotency key is missing`);
  return { order: orderFromItem(stored), replayed: true };
}

/**
 * Reads the SKUs of a cancelled checkout (every stock shard) and throws the 409 that explains it: a missing offer,
 * then changed prices (every changed line), then stock the SKU as a whole lacks. When nothing explains it, returns
 * the shards the next attempt should use: a line whose shard ran short while its SKU still has stock moves to the
 * active shard with the most, topped up from the others (`moveStock`), so it never fails for where stock sits.
 */
async function explainRejection(
  lines: OrderLineInput[],
  currency: string,
  tried: ShardPlan,
  reread = false,
): Promise<ShardPlan> {
  const skus = await readSkuShards(lines.map((l) => l.skuId));
  const unavailable = lines.filter((l) => {
    const sku = skus.get(l.skuId)?.main;
    return !sku?.offerId || sku.unitPrice === undefined;
  });
  if (unavailable.length > 0) throw new OfferUnavailableError(unavailable.map((l) => l.skuId));

  const changed: PriceChange[] = [];
  for (const line of lines) {
    const sku = skus.get(line.skuId)!.main!;
    if (sku.offerId !== line.offerId || sku.unitPrice !== line.unitPrice || sku.currency !== currency)
      changed.push({
        skuId: line.skuId,
        expectedOfferId: line.offerId,
        expectedUnitPrice: line.unitPrice,
        currentOfferId: sku.offerId ?? null,
        currentUnitPrice: sku.unitPrice ?? null,
        ...(sku.currency !== currency ? { expectedCurrency: currency, currentCurrency: sku.currency ?? null } : {}),
      });
  }
  if (changed.length > 0) throw new PriceChangedError(changed);

  const short: StockShortage[] = [];
  for (const line of lines) {
    const { available } = totalsOf(skus.get(line.skuId)!);
    if (available < line.qty) short.push({ skuId: line.skuId, requested: line.qty, available });
  }
  // The shards are read in two batches, not as one snapshot: stock moving between shards in between can hide units.
  // A shortage is answered only when a second read agrees.
  if (short.length > 0) {
    if (!reread) return explainRejection(lines, currency, tried, true);
    throw new OutOfStockError(short);
  }

  const next: ShardPlan = new Map();
  const { tableName } = db();
  for (const line of lines) {
    const sku: SkuShards = skus.get(line.skuId)!;
    const current = sku.slots[tried.get(line.skuId) ?? 0];
    const usable = current && current.shard < sku.shards && !current.retired && current.available >= line.qty;
    next.set(line.skuId, usable ? current.shard : ((await moveStock(tableName, sku, line.qty)) ?? 0));
  }
  return next;
}
