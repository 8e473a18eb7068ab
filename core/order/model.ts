import * as z from "zod";
import { Currency, Money } from "../schema.js";
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
});
export type OrderItem = z.infer<typeof OrderItem>;

export const ReservationStatus = z.enum(["HELD", "RELEASED", "CONSUMED"]);
export type ReservationStatus = z.infer<typeof ReservationStatus>;

export const ShippingAddress = z.record(z.string().max(64), z.string().max(512));

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

export function orderEventFromItem(item: Record<string, unknown>): OrderEvent {
  const { order: _summary, ...event } = stripLayout(item);
  return event as OrderEvent;
}

export function summarize(order: Pick<Order, "orderId" | "userId" | "status" | "totalAmount" | "currency">): OrderSummary {
  return {
    orderId: order.orderId,
    userId: order.userId,
    status: order.status,
    totalAmount: order.totalAmount,
    currency: order.currency,
  };
}

