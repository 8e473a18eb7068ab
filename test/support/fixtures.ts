import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { EventBridgeEvent } from "aws-lambda";
import { ulid } from "ulid";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import type { OrderEventType } from "../../core/order/status.js";
import type { Actor } from "../../core/schema.js";
import { db } from "../../core/store/client.js";

export const who: Actor = { actor: "test", requestId: "req-test" };

/** The event types, in order, of an order that was placed, paid, shipped and delivered. */
export const DELIVERED_ORDER_HISTORY = [
  "ORDER_CREATED",
  "INVENTORY_RESERVED",
  "PAYMENT_REQUESTED",
  "PAYMENT_SUCCEEDED",
  "READY_TO_SHIP",
  "SHIPPED",
  "DELIVERED",
] as const satisfies readonly OrderEventType[];

let upstreamEventCount = 0;

/** An EventBridge event from an upstream system (payments, shipments), as a target handler receives it. */
export function upstreamEvent(
  source: string,
  detailType: string,
  detail: Record<string, unknown>,
): EventBridgeEvent<string, unknown> {
  return {
    version: "0",
    id: `ev-${++upstreamEventCount}`,
    source,
    "detail-type": detailType,
    account: "1",
    time: new Date().toISOString(),
    region: "local",
    resources: [],
    detail,
  };
}

/** A SKU with a current offer and stock on hand; ids are unique per call so tests never share state. */
export async function seedSku(options: { price?: number; onHand?: number; currency?: string } = {}) {
  const skuId = `sku-${ulid().toLowerCase()}`;
  const offerId = `off-${ulid().toLowerCase()}`;
  const unitPrice = options.price ?? 12000;
  await Catalog.putOffer(skuId, { offerId, unitPrice, currency: options.currency ?? "KRW", title: "The Book" });
  await Catalog.setStock(skuId, { onHand: options.onHand ?? 10 });
  return { skuId, offerId, unitPrice };
}

export function checkoutRequest(
  lines: { skuId: string; offerId: string; unitPrice: number; qty?: number }[],
  overrides: Record<string, unknown> = {},
) {
  return {
    userId: "u-1",
    idempotencyKey: `key-${ulid()}`,
    items: lines.map((l) => ({ skuId: l.skuId, qty: l.qty ?? 1, offerId: l.offerId, unitPrice: l.unitPrice })),
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
    ...overrides,
  };
}

/** Every item in the test's table (tests use small tables). */
export async function scanTable(): Promise<Record<string, unknown>[]> {
  const { doc, tableName } = db();
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The domain error code a call ends with, or "OK". */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}
