import { ulid } from "ulid";
import type { Actor } from "../schema.js";
import type { TransactItem } from "../store/transact.js";
import { type Order, summarize } from "./model.js";
import type { PlannedEvent } from "./status.js";
import { orderEventsPut } from "./store.js";

/** The most events one change appends (checkout and a payment failure append three). */
export const MAX_EVENTS_PER_CHANGE = 4;

/**
 * The one Put holding every event of one change, numbered from `firstSeq`. One item per change instead of one per
 * event: a transactional write costs 2 write units per started KB of each item, and the events of a change share
 * their payload, actor, request and time, so three events fit in one small item (a checkout costs 2 units for its
 * history instead of 6). The Put is conditional on its key being new, so two writers that both believed they held
 * version n cannot both append from seq n + 1.
 */
export function eventPut(
  tableName: string,
  order: Order,
  firstSeq: number,
  planned: PlannedEvent[],
  payload: Record<string, unknown>,
  who: Actor,
  at: string,
): TransactItem {
  if (planned.length === 0 || planned.length > MAX_EVENTS_PER_CHANGE)
    throw new Error(`a change appends 1..${MAX_EVENTS_PER_CHANGE} events`);
  return orderEventsPut(tableName, {
    orderId: order.orderId,
    seq: firstSeq,
    events: planned.map((event) => ({
      eventId: ulid(),
      type: event.type,
      fromStatus: event.fromStatus,
      toStatus: event.toStatus,
    })),
    payload,
    actor: who.actor,
    requestId: who.requestId,
    createdAt: at,
    order: summarize(order),
  });
}
