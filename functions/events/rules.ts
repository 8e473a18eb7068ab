/**
 * The event rules: the one list of EventBridge rules (pattern -> handler), read by stacks/Events.ts and by the
 * local event bus. Patterns use only the operators the local matcher implements (exact values in arrays,
 * `prefix`, `anything-but`, `exists`, `numeric`).
 */
export interface EventRule {
  /** Stable rule name (CloudFormation logical id part and local bus name). */
  name: string;
  description: string;
  pattern: Record<string, unknown>;
  /** Handler in SST notation: file path without extension, then the export. */
  handler: string;
  /** What the target function may do to the table. */
  table: "read" | "readWrite";
}

export const eventRules: readonly EventRule[] = [
  {
    name: "PaymentEvents",
    description: "payment results move orders to PAID, cancel them, or complete refunds",
    pattern: { source: ["payments"], "detail-type": ["Payment Succeeded", "Payment Failed", "Refund Succeeded"] },
    handler: "functions/events/payments.handler",
    table: "readWrite",
  },
  {
    name: "ShipmentEvents",
    description: "shipment progress moves paid orders to READY_TO_SHIP, SHIPPED and DELIVERED",
    pattern: { source: ["shipments"], "detail-type": ["Shipment Ready", "Shipment Dispatched", "Shipment Delivered"] },
    handler: "functions/events/shipments.handler",
    table: "readWrite",
  },
  {
    name: "RelayCreated",
    description: "a new dropship relay is dispatched to its supplier",
    pattern: { source: ["orderline.relays"], "detail-type": ["RELAY_CREATED"] },
    handler: "functions/relay/dispatch.handler",
    table: "readWrite",
  },
  {
    name: "RelayOrderSync",
    description:
      "a relay of an ecommerce order changed status: the order follows (READY_TO_SHIP, SHIPPED, DELIVERED, REFUND_PENDING)",
    pattern: {
      source: ["orderline.relays"],
      "detail-type": ["RELAY_STATUS_CHANGED"],
      detail: { ecommerceOrderId: [{ exists: true }] },
    },
    handler: "functions/events/relay-sync.handler",
    table: "readWrite",
  },
  {
    name: "PaidOrderRelay",
    description: "a paid order with a dropship SKU gets its relay (one per order), dispatched like any relay",
    pattern: { source: ["orderline.orders"], "detail-type": ["PAYMENT_SUCCEEDED"] },
    handler: "functions/events/paid-orders.handler",
    table: "readWrite",
  },
];

import { Entity } from "../../core/store/table.js";

/**
 * The stream publisher and the filter of its event source mapping (Lambda event-filter syntax): only inserted
 * event and audit items reach it. Read by stacks/Events.ts and by the local stream poller.
 */
export const streamPublisher = {
  handler: "functions/stream/publish.handler",
  filter: { eventName: ["INSERT"], dynamodb: { NewImage: { entity: { S: [Entity.OrderEvent, Entity.RelayAudit] } } } },
} as const;

export const scheduledJobs = [
  {
    name: "ExpireUnpaidOrders",
    description: "cancels orders left in PAYMENT_PENDING past their payment window (PAYMENT_TIMEOUT)",
    schedule: "rate(1 minute)",
    handler: "functions/scheduled/expire-payments.handler",
  },
] as const;

/** Functions admins invoke directly (no route, no rule). */
export const adminFunctions = [
  {
    name: "RelayRetry",
    description: "re-dispatches named relays or every pending relay with lastError",
    handler: "functions/admin/relay-retry.handler",
  },
  {
    name: "ReconcileReservations",
    description: "recomputes each SKU's reserved from live reservations",
    handler: "functions/admin/reconcile.handler",
  },
] as const;
