import type { Context, EventBridgeEvent } from "aws-lambda";
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import * as z from "zod";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import type { ExternalOrderEventInput } from "../../core/order/transition.js";
import { count, logger } from "../powertools.js";

type Command = ExternalOrderEventInput["type"];

/** Business outcomes that a redelivery cannot change: logged and counted, never retried. */
const FINAL_CODES = new Set(["INVALID_TRANSITION", "NOT_FOUND", "VALIDATION_ERROR"]);

/**
 * Builds the EventBridge target for one upstream domain: maps its detail-types to order commands and applies
 * them through the same core function as `POST /internal/orders/{id}/events`. Delivery is at least once and in
 * any order: a duplicate (same external id) is a no-op, an event the order's status does not allow is logged and
 * counted (`order_event_rejected_total`) and acknowledged. Only infrastructure faults throw, so EventBridge's
 * retry policy and DLQ handle them.
 */
export function orderEventTarget(source: string, idField: "paymentId" | "shipmentId", commands: Record<string, Command>) {
  const Detail = z.looseObject({ orderId: z.string().min(1), [idField]: z.string().min(1) });

  async function apply(event: EventBridgeEvent<string, unknown>, _context?: Context): Promise<{ outcome: string }> {
    const fields = { source, detail_type: event["detail-type"], event_id: event.id };
    const command = commands[event["detail-type"]];
    const detail = Detail.safeParse(event.detail);
    if (!command || !detail.success) {
      count("order_event_rejected_total", { source, reason: "MALFORMED" });
      logger.warn("ignored malformed upstream event", { ...fields, issues: detail.success ? "unknown detail-type" : detail.error.issues });
      return { outcome: "rejected" };
    }
    const { orderId: _orderId, ...rest } = detail.data;
    const orderId = String(detail.data.orderId);
    const externalId = String(detail.data[idField]);
    try {
      const result = await Order.applyExternalEvent(orderId, { type: command, externalId, payload: { source, ...rest } }, { actor: source, requestId: event.id });
      logger.info(result.changed ? "order event applied" : "duplicate upstream event ignored", {
        ...fields,
        order_id: orderId,
        user_id: result.order.userId,
        status_transition: result.statusTransition ?? null,
      });
      if (result.statusTransition?.endsWith("->CANCELED")) count("order_cancel_total", { status: "payment_failed" });
      return { outcome: result.changed ? "applied" : "duplicate" };
    } catch (error) {
      if (error instanceof DomainError && FINAL_CODES.has(error.code)) {
        count("order_event_rejected_total", { source, reason: error.code });
        logger.warn("upstream event rejected", { ...fields, order_id: orderId, code: error.code, detail: error.message });
        return { outcome: "rejected" };
      }
      throw error;
    }
  }

  return { apply, handler: middy(apply).use(injectLambdaContext(logger)) };
}
