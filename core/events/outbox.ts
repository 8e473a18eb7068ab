import * as z from "zod";
import { OrderEventType, OrderStatus } from "../order/status.js";
import { Entity, stripLayout } from "../store/table.js";

/** Sources this service publishes under (contract "Events on EventBridge"). */
export const PublishedSource = { orders: "orderline.orders", relays: "orderline.relays" } as const;

export const RelayEventType = z.enum(["RELAY_CREATED", "RELAY_STATUS_CHANGED", "RELAY_SEND_FAILED"]);

/** An event ready for PutEvents; `streamKey` orders publication (one order's or relay's events in sequence). */
export interface OutboundEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  streamKey: string;
}

export class PoisonRecordError extends Error {}

const OrderEventItem = z.looseObject({
  entity: z.literal(Entity.OrderEvent),
  eventId: z.string().min(1),
  orderId: z.string().min(1),
  seq: z.number().int().positive(),
  type: z.enum(OrderEventType),
  order: z.looseObject({ orderId: z.string(), userId: z.string(), status: z.enum(OrderStatus), totalAmount: z.number(), currency: z.string() }),
});

const RelayAuditItem = z.looseObject({
  entity: z.literal(Entity.RelayAudit),
  auditId: z.string().min(1),
  relayId: z.string().min(1),
  publishAs: RelayEventType.optional(),
});

/**
 * Maps an item inserted into the table to the event it stands for, or undefined when the item is not published.
 * The stored event is the outbox: it was written in the same transaction as the change it describes, so an event
 * is published if and only if its change committed. `eventId` is the stored event's id (stable across retries).
 */
export function toOutboundEvent(item: Record<string, unknown>): OutboundEvent | undefined {
  if (item.entity === Entity.OrderEvent) {
    const parsed = OrderEventItem.safeParse(item);
    if (!parsed.success) throw new PoisonRecordError(`order event item is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const { order, ...event } = stripLayout(parsed.data);
    return {
      source: PublishedSource.orders,
      detailType: parsed.data.type,
      detail: { ...event, order },
      streamKey: `order#${parsed.data.orderId}`,
    };
  }
  if (item.entity === Entity.RelayAudit) {
    const parsed = RelayAuditItem.safeParse(item);
    if (!parsed.success) throw new PoisonRecordError(`relay audit item is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    if (!parsed.data.publishAs) return undefined;
    const { publishAs, ...audit } = stripLayout(parsed.data);
    return {
      source: PublishedSource.relays,
      detailType: parsed.data.publishAs,
      detail: { ...audit, eventId: parsed.data.auditId },
      streamKey: `relay#${parsed.data.relayId}`,
    };
  }
  return undefined;
}
