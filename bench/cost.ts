import { buildOrder, CheckoutInput, checkoutActions, requestHash } from "../core/order/checkout.js";
import { eventPut } from "../core/order/history.js";
import { plan } from "../core/order/status.js";
import type { Actor } from "../core/schema.js";
import { Entity, keys, tableDefinition } from "../core/store/table.js";
import { consistentReadUnits, itemSize, standardWriteUnits, transactionalWriteUnits } from "./item-size.js";

const who: Actor = { actor: "bench", requestId: "01JBENCHREQUESTID0000000000" };

/** On-demand prices (us-east-1): per million write / read request units, per GB-month stored. */
export const PRICES = { writeUnitPerMillion: 0.625, readUnitPerMillion: 0.125, storageGbMonth: 0.25 };

/** A SKU item as the service stores it, for sizing the reserve updates. */
function skuItem(skuId: string) {
  return {
    ...keys.sku(skuId),
    entity: Entity.Sku,
    skuId,
    offerId: `off-${skuId}`,
    unitPrice: 12000,
    currency: "KRW",
    title: "Clean Code",
    offerUpdatedAt: new Date().toISOString(),
    onHand: 1000,
    reserved: 10,
    available: 990,
  };
}

export interface CheckoutCost {
  lines: number;
  writeUnits: number;
  orderBytes: number;
  storedBytes: number;
  readUnitsGet: number;
}

/** A checkout of `n` one-unit lines of distinct SKUs, and the order the service builds from it. */
function benchOrder(n: number) {
  const lines = Array.from({ length: n }, (_, i) => ({
    skuId: `sku-bench-${i}`,
    qty: 1,
    offerId: `off-sku-bench-${i}`,
    unitPrice: 12000,
  }));
  const input = CheckoutInput.parse({
    userId: "user-1234",
    idempotencyKey: "checkout-7f3a9c2e-0b1d-4c55",
    items: lines,
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
  });
  return { lines, input, order: buildOrder(input, lines, new Date()) };
}

/** Write units of a checkout of `n` lines, computed from the very items the service writes. */
export function checkoutCost(n: number): CheckoutCost {
  const { lines, input, order } = benchOrder(n);
  const actions = checkoutActions("orderline", order, lines, requestHash(input, lines), who);
  let writeUnits = 0;
  let storedBytes = 0;
  let orderBytes = 0;
  for (const action of actions) {
    if (action.Update)
      writeUnits += transactionalWriteUnits(
        itemSize(skuItem(String((action.Update.Key as { pk: string }).pk).slice(4))),
      );
    if (action.Put) {
      const item = action.Put.Item as Record<string, unknown>;
      const size = itemSize(item);
      const indexes = indexesOf(item);
      // The table write (transactional), plus one standard write per GSI the item appears in (KEYS_ONLY: < 1 KB).
      writeUnits += transactionalWriteUnits(size) + indexes * standardWriteUnits(1);
      storedBytes += (1 + indexes) * (size + 100); // + 100 bytes of per-item overhead, in the table and each index
      if (item.entity === Entity.Order) orderBytes = size;
    }
  }
  return { lines: n, writeUnits, orderBytes, storedBytes, readUnitsGet: consistentReadUnits(orderBytes) };
}

/** GSIs an item is written to (all KEYS_ONLY): those whose partition key attribute it carries. */
function indexesOf(item: Record<string, unknown>): number {
  return Object.values(tableDefinition.globalIndexes).filter((index) => item[index.partitionKey] !== undefined).length;
}

/**
 * Write units of one status transition without stock effect: the order update (transactional) and its event item,
 * plus, on leaving PAYMENT_PENDING, the deletion of the gsi2 (deadline) entry (KEYS_ONLY indexes are not rewritten
 * when other attributes change).
 */
export function transitionCost(leavesPaymentPending: boolean): number {
  const { order } = benchOrder(1);
  const planned = plan("PAYMENT_PENDING", "PAYMENT_SUCCEEDED", true)!;
  const event = eventPut("orderline", order, 4, planned.events, { externalId: "pay-0001" }, who, order.createdAt);
  const orderItem = {
    ...keys.order(order.orderId),
    entity: Entity.Order,
    ...order,
    appliedExternalEvents: ["PAYMENT_SUCCEEDED#pay-0001"],
  };
  const size = itemSize(orderItem);
  return (
    transactionalWriteUnits(size) +
    transactionalWriteUnits(itemSize(event.Put!.Item as Record<string, unknown>)) +
    (leavesPaymentPending ? standardWriteUnits(1) : 0)
  );
}

/** Write units of a SKU stock update inside a transition's transaction (release or consume). */
export function stockUpdateCost(): number {
  return transactionalWriteUnits(itemSize(skuItem("sku-bench-0")));
}
