/**
 * The event rules: the one list of EventBridge rules (pattern -> handler), read by stacks/Events.ts and by the
 * local event bus (local/bus.ts). Patterns are raw EventBridge JSON. The local bus compiles them with
 * local/pattern.ts, which implements EventBridge's operators (IPv6 `cidr` aside) and throws on any it does not know,
 * so a pattern the local runtime could not match fails its start-up (and local/pattern.test.ts), not silently.
 *
 * The stream publisher's source is in functions/stream/publisher-source.ts, the scheduled jobs in
 * functions/scheduled/jobs.ts and the directly invoked admin functions in functions/admin/functions.ts.
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

/** Every rule target's timeout (s), deployed and given to the local bus's invocation context alike. */
export const RULE_TARGET_TIMEOUT_SECONDS = 30;

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
