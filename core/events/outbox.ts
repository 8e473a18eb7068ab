import * as z from "zod";
import { orderEventsFromItem } from "../order/model.js";
import { OrderEventType, OrderStatus } from "../order/status.js";
import { Entity, stripLayout } from "../store/table.js";

/** Sources this service publishes under (contract "Events on EventBridge"). */
export const PublishedSource = { orders: "orderline.orders", relays: "orderline.relays" } as const;

export const RelayEventType = z.enum(["RELAY_CREATED", "RELAY_STATUS_CHANGED", "RELAY_SEND_FAILED"]);

/**
 * An event ready for PutEvents. `streamKey` is the item's partition (one order, one relay) and `position` its sort
 * key: events of one key are published in `position` order, whatever order the stream delivered them in (the
 * records of one transaction may interleave).
 */
export interface OutboundEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  streamKey: string;
  position: string;
}

/** EventBridge refuses entries over 256 KB; detail is kept well under it. */
export const MAX_DETAIL_BYTES = 200 * 1024;

/**
 * Payloads are validated small on the way in (16 KB), so this only guards items written before that limit or by
 * other means: an event too big to publish goes out with its payload replaced, never not at all.
 */
function fitted(detail: Record<string, unknown>): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(detail)) <= MAX_DETAIL_BYTES) return detail;
  return { ...detail, payload: {}, payloadTruncated: true };
}

export class PoisonRecordError extends Error {}

const OrderEventsItem = z.looseObject({
  entity: z.literal(Entity.OrderEvent),
  orderId: z.string().min(1),
  seq: z.number().int().positive(),
  events: z
    .array(
      z.looseObject({
        eventId: z.string().min(1),
        type: z.enum(OrderEventType),
        fromStatus: z.enum(OrderStatus).nullable(),
        toStatus: z.enum(OrderStatus),
      }),
    )
    .min(1),
  payload: z.record(z.string(), z.unknown()),
  actor: z.string(),
  requestId: z.string(),
  createdAt: z.string(),
  order: z.looseObject({
    orderId: z.string(),
    userId: z.string(),
    status: z.enum(OrderStatus),
    totalAmount: z.number(),
    currency: z.string(),
  }),
});

const RelayAuditItem = z.looseObject({
  entity: z.literal(Entity.RelayAudit),
  auditId: z.string().min(1),
  relayId: z.string().min(1),
  publishAs: RelayEventType.optional(),
});

/**
 * Maps an item inserted into the table to the events it stands for (none when the item is not published).
 * The stored event is the outbox: it was written in the same transaction as the change it describes, so an event
 * is published if and only if its change committed. `eventId` is the stored event's id (stable across retries).
 * An order's change item holds every event of that change; they go out in `seq` order.
 */
export function toOutboundEvents(item: Record<string, unknown>): OutboundEvent[] {
  if (item.entity === Entity.OrderEvent) {
    const parsed = OrderEventsItem.safeParse(item);
    if (!parsed.success)
      throw new PoisonRecordError(`order event item is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return orderEventsFromItem(parsed.data).map((event, i) => ({
      source: PublishedSource.orders,
      detailType: event.type,
      detail: fitted(event),
      streamKey: String(item.pk),
      position: `${String(item.sk)}#${i}`,
    }));
  }
  if (item.entity === Entity.RelayAudit) {
    const parsed = RelayAuditItem.safeParse(item);
    if (!parsed.success)
      throw new PoisonRecordError(`relay audit item is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    if (!parsed.data.publishAs) return [];
    const { publishAs, ...audit } = stripLayout(parsed.data);
    return [
      {
        source: PublishedSource.relays,
        detailType: parsed.data.publishAs,
        detail: fitted({ ...audit, eventId: parsed.data.auditId }),
        streamKey: String(item.pk),
        position: String(item.sk),
      },
    ];
  }
  return [];
}
