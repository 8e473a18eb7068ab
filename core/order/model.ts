import * as z from "zod";
import { Currency, Money, ShippingAddressObject } from "../schema.js";
import { stripLayout } from "../store/table.js";
import { OrderEventType, OrderStatus } from "./status.js";

export const PriceSnapshot = z.object({
  offerId: z.string(),
  unitPrice: z.number(),
  capturedAt: z.string(),
  title: z.string().optional(),
});

export const OrderItem = z.object({
  orderItemId: z.string(),
  skuId: z.string(),
  qty: z.number(),
  itemTotalAmount: z.number(),
  priceSnapshot: PriceSnapshot,
  /** The stock shard holding this line's reservation, when it is not the SKU's main item (hot SKUs). */
  shard: z.number().int().min(1).optional(),
});
export type OrderItem = z.infer<typeof OrderItem>;

export const ReservationStatus = z.enum(["HELD", "RELEASED", "CONSUMED"]);
export type ReservationStatus = z.infer<typeof ReservationStatus>;

/** A shipping address snapshot: string fields, no empty keys, at most 2 KB (see core/schema.ts). */
export const ShippingAddress = ShippingAddressObject;

/** The order as clients see it (contract "Order representation"). */
export const Order = z.object({
  orderId: z.string(),
  userId: z.string(),
  status: z.enum(OrderStatus),
  currency: Currency,
  totalAmount: Money,
  shippingFee: Money,
  discountAmount: Money,
  idempotencyKey: z.string(),
  cartId: z.string().nullable(),
  shippingAddressId: z.string().nullable(),
  shippingAddress: ShippingAddress.nullable(),
  paymentMethod: z.string(),
  items: z.array(OrderItem),
  reservationStatus: ReservationStatus,
  paymentDueAt: z.string().nullable(),
  cancelReason: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Order = z.infer<typeof Order>;

/** One entry of an order's history; `seq` is 1, 2, 3, ... without gaps (it equals the order version). */
export const OrderEvent = z.object({
  eventId: z.string(),
  orderId: z.string(),
  type: z.enum(OrderEventType),
  fromStatus: z.enum(OrderStatus).nullable(),
  toStatus: z.enum(OrderStatus),
  payload: z.record(z.string(), z.unknown()),
  actor: z.string(),
  requestId: z.string(),
  createdAt: z.string(),
  seq: z.number().int(),
});
export type OrderEvent = z.infer<typeof OrderEvent>;

/** What consumers of published order events get besides the event itself. */
export interface OrderSummary {
  orderId: string;
  userId: string;
  status: OrderStatus;
  totalAmount: number;
  currency: string;
}

/** Internal attributes of the stored order that are not part of its representation. */
const internalOrderAttributes = ["appliedExternalEvents"] as const;

export function orderFromItem(item: Record<string, unknown>): Order {
  const copy: Record<string, unknown> = stripLayout(item);
  for (const attr of internalOrderAttributes) delete copy[attr];
  return copy as Order;
}

/** The stored item of one change: the events it appended, from `seq` on, and what they share. */
export interface OrderEventsItem {
  orderId: string;
  seq: number;
  events: {
    eventId: string;
    type: OrderEvent["type"];
    fromStatus: OrderEvent["fromStatus"];
    toStatus: OrderEvent["toStatus"];
  }[];
  payload: Record<string, unknown>;
  actor: string;
  requestId: string;
  createdAt: string;
  order: OrderSummary;
}

/** The events of one stored change, each with its own `seq` and the order summary as of that event. */
export function orderEventsFromItem(item: Record<string, unknown>): (OrderEvent & { order: OrderSummary })[] {
  const stored = item as unknown as OrderEventsItem;
  return stored.events.map((event, i) => ({
    eventId: event.eventId,
    orderId: stored.orderId,
    type: event.type,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    payload: stored.payload,
    actor: stored.actor,
    requestId: stored.requestId,
    createdAt: stored.createdAt,
    seq: stored.seq + i,
    order: { ...stored.order, status: event.toStatus },
  }));
}

export function summarize(
  order: Pick<Order, "orderId" | "userId" | "status" | "totalAmount" | "currency">,
): OrderSummary {
  return {
    orderId: order.orderId,
    userId: order.userId,
    status: order.status,
    totalAmount: order.totalAmount,
    currency: order.currency,
  };
}
