import { DomainError } from "../errors.js";
import type { Actor } from "../schema.js";
import { get } from "./query.js";
import type { OrderStatus } from "./status.js";
import { applyExternalEvent, type TransitionResult } from "./transition.js";

/** The fulfilment path of a paid order; a relay status moves its order along it (never back). */
const FULFILMENT: readonly OrderStatus[] = ["PAID", "READY_TO_SHIP", "SHIPPED", "DELIVERED"];

/** The order status each relay status stands for (contract "Relays and their ecommerce order move together"). */
const targetOf: Partial<Record<string, OrderStatus>> = {
  confirmed: "READY_TO_SHIP",
  shipped: "SHIPPED",
  delivered: "DELIVERED",
};

/** The refund reason an order gets when its supplier cancels the relay of a paid order. */
export const SUPPLIER_CANCELLED = "SUPPLIER_CANCELLED";

export interface SyncResult {
  /** The transitions applied now (empty when the order was already there: a redelivery or a later event). */
  applied: string[];
  order: TransitionResult["order"];
}

/**
 * Moves an ecommerce order after its relay (DS-4.1 §1.1 status sync): `confirmed` -> READY_TO_SHIP, `shipped` ->
 * SHIPPED, `delivered` -> DELIVERED, each step through the order's own guarded transition, catching up any step an
 * earlier relay event did not deliver yet (events may arrive late, out of order or side by side); `cancelled` while the order is
 * PAID or READY_TO_SHIP -> REFUND_PENDING (REFUND_REQUESTED, reason SUPPLIER_CANCELLED). Every step's external id
 * is derived from the relay audit entry, so a redelivered relay event changes nothing. A relay status that does
 * not apply to the order's status (an unpaid order, a refund already under way) throws INVALID_TRANSITION.
 */
export async function syncOrderWithRelay(
  orderId: string,
  relay: { relayId: string; status: string; auditId: string; reason?: string | null },
  who: Actor,
): Promise<SyncResult> {
  let order = await get(orderId);
  const applied: string[] = [];
  const payload = {
    relayId: relay.relayId,
    relayStatus: relay.status,
    ...(relay.reason ? { relayReason: relay.reason } : {}),
  };
  if (relay.status === "cancelled") {
    // Only an order not yet shipped is refunded because its supplier cancelled (contract); later ones are left alone.
    if (order.status !== "PAID" && order.status !== "READY_TO_SHIP") return { applied, order };
    const result = await applyExternalEvent(
      orderId,
      {
        type: "REFUND_REQUESTED",
        externalId: `${relay.auditId}:REFUND_REQUESTED`,
        payload: { ...payload, reason: SUPPLIER_CANCELLED },
      },
      who,
    );
    if (result.statusTransition) applied.push(result.statusTransition);
    return { applied, order: result.order };
  }
  const target = targetOf[relay.status];
  if (!target) return { applied, order };
  const goal = FULFILMENT.indexOf(target);
  for (let at = FULFILMENT.indexOf(order.status); at >= 0 && at < goal; at = FULFILMENT.indexOf(order.status)) {
    const type = FULFILMENT[at + 1] as "READY_TO_SHIP" | "SHIPPED" | "DELIVERED";
    try {
      const result = await applyExternalEvent(orderId, { type, externalId: `${relay.auditId}:${type}`, payload }, who);
      if (result.statusTransition) applied.push(result.statusTransition);
      order = result.order;
    } catch (error) {
      // Another relay event moved the order meanwhile (events of one relay may be handled side by side): read it
      // again and go on from where it is now; only an order off the fulfilment path ends the catch-up.
      if (!(error instanceof DomainError && error.code === "INVALID_TRANSITION")) throw error;
      const fresh = await get(orderId);
      if (fresh.status === order.status) throw error;
      order = fresh;
    }
  }
  // Not on the fulfilment path at all (unpaid, cancelled, refunding): the guarded transition says why.
  if (FULFILMENT.indexOf(order.status) < 0)
    await applyExternalEvent(
      orderId,
      { type: target as "READY_TO_SHIP", externalId: `${relay.auditId}:${target}`, payload },
      who,
    );
  return { applied, order };
}
