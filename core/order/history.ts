import { ulid } from "ulid";
import type { Actor } from "../schema.js";
import { Entity, keys } from "../store/table.js";
import type { TransactItem } from "../store/transact.js";
import { summarize, type Order } from "./model.js";
import type { PlannedEvent } from "./status.js";

/**
 * Puts for the events of one change, numbered from `firstSeq`. Each is conditional on its key being new, so
 * two writers that both believed they held version n cannot both append seq n + 1.
 */
export function eventPuts(
  tableName: string,
  order: Order,
  firstSeq: number,
  planned: PlannedEvent[],
  payload: Record<string, unknown>,
  who: Actor,
  at: string,
): TransactItem[] {
  return planned.map((event, i) => {
    const seq = firstSeq + i;
    return {
      Put: {
        TableName: tableName,
        Item: {
          ...keys.orderEvent(order.orderId, seq),
          entity: Entity.OrderEvent,
          eventId: ulid(),
          orderId: order.orderId,
          seq,
          type: event.type,
          fromStatus: event.fromStatus,
          toStatus: event.toStatus,
          payload,
          actor: who.actor,
          requestId: who.requestId,
          createdAt: at,
          order: summarize({ ...order, status: event.toStatus }),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  });
}
