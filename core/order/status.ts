/**
 * The order state machine as data. `next(status, event)` is the only place that decides whether an event is
 * legal; persistence guards the expected current status with a condition expression, so two concurrent writers
 * cannot both apply a transition.
 */
export const OrderStatus = [
  "CREATED",
  "PAYMENT_PENDING",
  "PAID",
  "READY_TO_SHIP",
  "SHIPPED",
  "DELIVERED",
  "CANCELED",
  "REFUND_PENDING",
  "REFUNDED",
] as const;
export type OrderStatus = (typeof OrderStatus)[number];

export const OrderEventType = [
  "ORDER_CREATED",
  "INVENTORY_RESERVED",
  "PAYMENT_REQUESTED",
  "PAYMENT_SUCCEEDED",
  "PAYMENT_FAILED",
  "ORDER_CANCELED",
  "INVENTORY_RELEASED",
  "READY_TO_SHIP",
  "SHIPPED",
  "DELIVERED",
  "REFUND_REQUESTED",
  "REFUNDED",
] as const;
export type OrderEventType = (typeof OrderEventType)[number];

/** Events that move an order (the ones a caller may ask for); the rest are appended as side effects. */
export type OrderCommand =
  | "PAYMENT_REQUESTED"
  | "PAYMENT_SUCCEEDED"
  | "PAYMENT_FAILED"
  | "ORDER_CANCELED"
  | "READY_TO_SHIP"
  | "SHIPPED"
  | "DELIVERED"
  | "REFUND_REQUESTED"
  | "REFUNDED";

export const transitions: Readonly<Record<OrderStatus, Partial<Record<OrderCommand, OrderStatus>>>> = {
  CREATED: { PAYMENT_REQUESTED: "PAYMENT_PENDING", ORDER_CANCELED: "CANCELED", PAYMENT_FAILED: "CANCELED" },
  PAYMENT_PENDING: { PAYMENT_SUCCEEDED: "PAID", PAYMENT_FAILED: "CANCELED", ORDER_CANCELED: "CANCELED" },
  PAID: { READY_TO_SHIP: "READY_TO_SHIP", REFUND_REQUESTED: "REFUND_PENDING" },
  READY_TO_SHIP: { SHIPPED: "SHIPPED", REFUND_REQUESTED: "REFUND_PENDING" },
  SHIPPED: { DELIVERED: "DELIVERED", REFUND_REQUESTED: "REFUND_PENDING" },
  DELIVERED: { REFUND_REQUESTED: "REFUND_PENDING" },
  REFUND_PENDING: { REFUNDED: "REFUNDED" },
  CANCELED: {},
  REFUNDED: {},
};

export const terminalStatuses: readonly OrderStatus[] = OrderStatus.filter(
  (s) => Object.keys(transitions[s]).length === 0,
);

/** The status an event leads to, or undefined when the event is not legal in `status`. */
export function next(status: OrderStatus, command: OrderCommand): OrderStatus | undefined {
  return transitions[status][command];
}

export interface PlannedEvent {
  type: OrderEventType;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
}

/** What the stock reservation of an order does when a transition commits. */
export type ReservationEffect = "release" | "consume" | "none";

/** What a legal transition appends and does to the stock reservation. */
export interface TransitionPlan {
  events: PlannedEvent[];
  reservation: ReservationEffect;
}

/**
 * The events a legal transition appends, in order, and its effect on a held stock reservation: a cancellation
 * (by the customer or by a failed payment) and a refund of goods that never shipped release it; shipping
 * consumes it (the goods leave the warehouse).
 */
export function plan(status: OrderStatus, command: OrderCommand, reservationHeld: boolean): TransitionPlan | undefined {
  const to = next(status, command);
  if (!to) return undefined;
  const events: PlannedEvent[] = [];
  if (to === "CANCELED") {
    if (command === "PAYMENT_FAILED") events.push({ type: "PAYMENT_FAILED", fromStatus: status, toStatus: status });
    events.push({ type: "ORDER_CANCELED", fromStatus: status, toStatus: to });
  } else {
    events.push({ type: command, fromStatus: status, toStatus: to });
  }
  let reservation: ReservationEffect = "none";
  if (reservationHeld && (to === "CANCELED" || to === "REFUNDED")) {
    reservation = "release";
    events.push({ type: "INVENTORY_RELEASED", fromStatus: to, toStatus: to });
  } else if (reservationHeld && to === "SHIPPED") {
    reservation = "consume";
  }
  return { events, reservation };
}
