import type { ScheduledEvent } from "aws-lambda";
import { Order } from "../../core/order/index.js";
import { invocationDeadline } from "../../core/retry.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";

const STOP_BEFORE_DEADLINE_MS = 4_000;

/** Runs every minute (EventBridge schedule in AWS, an interval on the local runtime). */
export async function expirePayments(event: Pick<ScheduledEvent, "id" | "time">) {
  // Stop taking work 4 s before the invocation's deadline (5 s before the function's timeout): the cancellation in
  // flight still commits, and what is left stays in the index for the next run.
  const end = invocationDeadline();
  const sweep = await Order.expireOverduePayments(
    new Date(),
    { actor: "payment-timeout", requestId: event.id },
    end === undefined ? {} : { deadline: end - STOP_BEFORE_DEADLINE_MS },
  );
  if (sweep.skipped) logger.info("payment expiry skipped: another run holds the lease");
  if (sweep.unfinished)
    logger.warn("payment expiry stopped at its time budget; the next run goes on", { examined: sweep.examined });
  for (const orderId of sweep.canceled)
    logger.info("order payment timed out", { order_id: orderId, status_transition: "PAYMENT_PENDING->CANCELED" });
  if (sweep.canceled.length > 0) count("order_cancel_total", { status: "payment_timeout" }, sweep.canceled.length);
  for (const failure of sweep.failed)
    logger.error("order payment timeout failed", {
      order_id: failure.orderId,
      code: failure.code,
      detail: failure.message,
    });
  if (sweep.failed.length > 0) count("order_expiry_failed_total", {}, sweep.failed.length);
  return sweep;
}

export const handler = lambdaHandler(expirePayments);
