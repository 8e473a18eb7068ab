import type { Context, EventBridgeEvent } from "aws-lambda";
import * as z from "zod";
import { DomainError, isRetryable } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import type { ExternalOrderEventInput } from "../../core/order/transition.js";
import { StorableNumber } from "../../core/schema.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";

type Command = ExternalOrderEventInput["type"];

/**
 * An upstream event this service cannot apply as sent (malformed, or naming no order). It is thrown, so the rule's
 * retry policy ends in its DLQ (alarmed) where the event can be inspected and replayed; it is never acknowledged
 * silently, because a lost "Payment Succeeded" would let the payment timeout cancel a paid order.
 */
export class UnusableUpstreamEvent extends Error {}

/** Detail fields worth keeping on the order's event, as scalars; everything else upstream sends is dropped. */
const KEPT_FIELDS = ["amount", "currency", "method", "reason", "carrier", "trackingNumber"] as const;

function keptPayload(detail: Record<string, unknown>): Record<string, string | number> {
  const kept: Record<string, string | number> = {};
  for (const field of KEPT_FIELDS) {
    const value = detail[field];
    if (typeof value === "string" && value.length <= 500) kept[field] = value;
    if (typeof value === "number" && StorableNumber.safeParse(value).success) kept[field] = value;
  }
  return kept;
}

/** One upstream event, read: the order it names, the command it maps to, and what is kept on the order's event. */
interface UpstreamEvent {
  orderId: string;
  command: Command;
  externalId: string;
  payload: Record<string, string | number>;
  /** The fields every log line of this event carries. */
  fields: Record<string, unknown>;
}

/**
 * Builds the EventBridge target for one upstream domain: maps its detail-types to order commands and applies
 * them through the same core function as `POST /internal/orders/{id}/events`. Delivery is at least once and in
 * any order: a duplicate (same external id) is a no-op, an event the order's status does not allow is logged and
 * counted (`order_event_rejected_total`) and acknowledged. Infrastructure faults and unusable events throw, so
 * EventBridge's retry policy and DLQ handle them.
 */
export function orderEventTarget(
  source: string,
  idField: "paymentId" | "shipmentId",
  commands: Record<string, Command>,
) {
  const ExternalId = z.union([z.string().min(1).max(200), z.int()]).transform(String);
  const Detail = z.looseObject({ orderId: z.string().min(1).max(128), [idField]: ExternalId });

  function read(event: EventBridgeEvent<string, unknown>): UpstreamEvent {
    const fields = { source, detail_type: event["detail-type"], event_id: event.id };
    const command = commands[event["detail-type"]];
    const detail = Detail.safeParse(event.detail);
    if (!command || !detail.success) {
      count("order_event_rejected_total", { source, reason: "MALFORMED" });
      logger.error("malformed upstream event", {
        ...fields,
        issues: detail.success ? "unknown detail-type" : detail.error.issues,
      });
      throw new UnusableUpstreamEvent(`malformed ${source} event ${event.id}`);
    }
    const externalId = String(detail.data[idField]);
    const payload = { source, [idField]: externalId, ...keptPayload(detail.data) };
    return { orderId: String(detail.data.orderId), command, externalId, payload, fields };
  }

  async function apply(event: EventBridgeEvent<string, unknown>, _context?: Context): Promise<{ outcome: string }> {
    const upstream = read(event);
    const { orderId, command, externalId, payload, fields } = upstream;
    try {
      const result = await Order.applyExternalEvent(
        orderId,
        { type: command, externalId, payload },
        { actor: source, requestId: event.id },
      );
      logger.info(result.changed ? "order event applied" : "duplicate upstream event ignored", {
        ...fields,
        order_id: orderId,
        user_id: result.order.userId,
        status_transition: result.statusTransition ?? null,
      });
      if (result.statusTransition?.endsWith("->CANCELED")) count("order_cancel_total", { status: "payment_failed" });
      return { outcome: result.changed ? "applied" : "duplicate" };
    } catch (error) {
      return settleFailure(error, upstream, event.id);
    }
  }

  /**
   * What a failed apply means: an INVALID_TRANSITION is a verdict on the event (acknowledged as rejected);
   * throttling or contention is capacity (rethrown for EventBridge to redeliver); any other DomainError makes the
   * event unusable (thrown into the DLQ); anything else is an infrastructure fault (rethrown).
   */
  function settleFailure(error: unknown, upstream: UpstreamEvent, eventId: string): { outcome: string } {
    const log = { ...upstream.fields, order_id: upstream.orderId };
    if (error instanceof DomainError && error.code === "INVALID_TRANSITION") {
      count("order_event_rejected_total", { source, reason: error.code });
      if (upstream.command === "PAYMENT_SUCCEEDED" && error.details.currentStatus === "CANCELED") {
        // The customer paid for an order that is already cancelled (e.g. after its payment window): alarmed.
        count("order_paid_after_cancel_total");
        logger.error("payment succeeded for a cancelled order: refund needed", {
          ...log,
          payment_id: upstream.externalId,
        });
      }
      logger.warn("upstream event rejected", { ...log, code: error.code, detail: error.message });
      return { outcome: "rejected" };
    }
    if (isRetryable(error)) {
      // Throttling or contention is capacity, not a verdict on the event: EventBridge redelivers it (retry
      // policy), and a payment that lands late still wins over the expiry sweep's guarded cancel.
      count("order_event_retry_total", { source, reason: (error as DomainError).code });
      logger.warn("upstream event will be retried", { ...log, code: (error as DomainError).code });
      throw error;
    }
    if (error instanceof DomainError) {
      count("order_event_rejected_total", { source, reason: error.code });
      logger.error("unusable upstream event", { ...log, code: error.code, detail: error.message });
      throw new UnusableUpstreamEvent(`${source} event ${eventId}: ${error.code}`);
    }
    throw error;
  }

  return { apply, handler: lambdaHandler(apply) };
}
