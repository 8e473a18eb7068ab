/**
 * The relay state machine and the immutability points of DS-4.1 §5.3, as data. Persistence guards the status
 * and version every plan was made from, so a concurrent writer cannot slip a transition or a forbidden edit in.
 */
export const RelayStatus = [
  "pending",
  "relayed",
  "confirmed",
  "shipped",
  "delivered",
  "cancelled",
  "refunded",
] as const;
export type RelayStatus = (typeof RelayStatus)[number];

/** What moves a relay. `SUPPLIER_ACCEPTED` and `SUPPLIER_REFUSED` come only from a dispatch's supplier answer. */
export const RelayCommand = [
  "SUPPLIER_ACCEPTED",
  "SUPPLIER_REFUSED",
  "SUPPLIER_CONFIRMED",
  "SHIPPED",
  "DELIVERED",
  "CANCELLED",
  "REFUNDED",
] as const;
export type RelayCommand = (typeof RelayCommand)[number];

/** Commands callers may report through `POST /internal/relays/{id}/events`. */
export const RelayEventType = ["SUPPLIER_CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"] as const;
export type RelayEventType = (typeof RelayEventType)[number];

export const transitions: Readonly<Record<RelayStatus, Partial<Record<RelayCommand, RelayStatus>>>> = {
  pending: { SUPPLIER_ACCEPTED: "relayed", SUPPLIER_REFUSED: "cancelled", CANCELLED: "cancelled" },
  relayed: { SUPPLIER_CONFIRMED: "confirmed", CANCELLED: "cancelled" },
  confirmed: { SHIPPED: "shipped", CANCELLED: "cancelled" },
  shipped: { DELIVERED: "delivered", REFUNDED: "refunded" },
  delivered: { REFUNDED: "refunded" },
  cancelled: {},
  refunded: {},
};

export const terminalStatuses: readonly RelayStatus[] = RelayStatus.filter(
  (s) => Object.keys(transitions[s]).length === 0,
);

/** The status `command` leads to from `status`, or undefined when it is not allowed. */
export function next(status: RelayStatus, command: RelayCommand): RelayStatus | undefined {
  return transitions[status][command];
}

/** The timestamp attribute a status sets when a relay enters it. */
export const enteredAt: Readonly<Partial<Record<RelayStatus, string>>> = {
  relayed: "relayedAt",
  confirmed: "confirmedAt",
  shipped: "shippedAt",
  delivered: "deliveredAt",
  cancelled: "cancelledAt",
  refunded: "refundedAt",
};

/** Statuses that end in cancellation or refund: their audit entry is a CANCELLATION. */
export const cancellationStatuses: readonly RelayStatus[] = ["cancelled", "refunded"];

/**
 * Fields a caller can name in a change, with the first status of the fulfilment line from which each is frozen
 * (DS-4.1 §5.3). `delivered` freezes every core field; `cancelled` and `refunded` freeze everything.
 * `listingId`, `unitPrice` and `totalPrice` are never set by a PATCH at all: the listing is fixed at creation and
 * prices are copied from it (Dropshipping never prices), so naming them is always FIELD_IMMUTABLE.
 */
export const frozenFrom = {
  listingId: "pending",
  unitPrice: "pending",
  totalPrice: "pending",
  quantity: "relayed",
  ecommerceOrderId: "confirmed",
  "shippingInfo.carrier": "shipped",
  "shippingInfo.trackingNumber": "shipped",
  customerInfo: "delivered",
  shippingInfo: "delivered",
} as const satisfies Record<string, RelayStatus>;
export type RelayField = keyof typeof frozenFrom;

const fulfilmentLine: readonly RelayStatus[] = ["pending", "relayed", "confirmed", "shipped", "delivered"];

/** Whether `field` may still change while the relay is in `status`. */
export function isMutable(field: RelayField, status: RelayStatus): boolean {
  if (terminalStatuses.includes(status)) return false;
  const position = fulfilmentLine.indexOf(status);
  const frozen = fulfilmentLine.indexOf(frozenFrom[field]);
  // "pending" in the table means "never changeable by a caller".
  if (frozenFrom[field] === "pending") return false;
  return position < frozen;
}

/** Statuses in which every one of `fields` may change: the status condition of the write that changes them. */
export function statusesAllowing(fields: readonly RelayField[]): RelayStatus[] {
  return RelayStatus.filter((status) => fields.every((field) => isMutable(field, status)));
}
