import type { Context, EventBridgeEvent } from "aws-lambda";
import * as z from "zod";
import { DomainError, isRetryable } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";
import { UnusableUpstreamEvent } from "./order-events.js";

const RelayStatusChanged = z.looseObject({
  relayId: z.string().min(1),
  auditId: z.string().min(1),
  status: z.string().min(1),
  ecommerceOrderId: z.string().min(1),
  reason: z.string().nullable().optional(),
});

/**
 * Target of the RelayOrderSync rule: a relay of an ecommerce order changed status, so its order follows (contract
 * "Relays and their ecommerce order move together"). At least once and idempotent (external ids from the relay's
 * audit id). A status the order cannot take is logged, counted (`order_sync_rejected_total`) and acknowledged;
 * capacity or contention throws for EventBridge to redeliver; an unusable event throws into the rule's DLQ.
 */
export async function apply(
  event: EventBridgeEvent<string, unknown>,
  _context?: Context,
): Promise<{ outcome: string; applied: string[] }> {
  const parsed = RelayStatusChanged.safeParse(event.detail);
  const fields = { event_id: event.id, detail_type: event["detail-type"] };
  if (!parsed.success) {
    count("order_sync_rejected_total", { reason: "MALFORMED" });
    logger.error("malformed relay event", { ...fields, issues: parsed.error.issues });
    throw new UnusableUpstreamEvent(`malformed relay event ${event.id}`);
  }
  const relay = parsed.data;
  const log = { ...fields, order_id: relay.ecommerceOrderId, relay_id: relay.relayId, relay_status: relay.status };
  try {
    const result = await Order.syncOrderWithRelay(relay.ecommerceOrderId, relay, {
      actor: "relay-sync",
      requestId: event.id,
    });
    logger.info(result.applied.length > 0 ? "order moved with its relay" : "order already where its relay is", {
      ...log,
      status_transition: result.applied.join(",") || null,
    });
    return { outcome: result.applied.length > 0 ? "applied" : "unchanged", applied: result.applied };
  } catch (error) {
    if (isRetryable(error)) throw error;
    if (error instanceof DomainError && error.code === "INVALID_TRANSITION") {
      count("order_sync_rejected_total", { reason: error.code });
      logger.warn("order cannot follow its relay", { ...log, code: error.code, detail: error.message });
      return { outcome: "rejected", applied: [] };
    }
    if (error instanceof DomainError) {
      count("order_sync_rejected_total", { reason: error.code });
      logger.error("relay event names an order that cannot be synced", { ...log, code: error.code });
      throw new UnusableUpstreamEvent(`relay event ${event.id}: ${error.code}`);
    }
    throw error;
  }
}

export const handler = lambdaHandler(apply);
