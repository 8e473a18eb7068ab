import type { Context } from "aws-lambda";
import * as z from "zod";
import { Order } from "../../core/order/index.js";
import { validate } from "../../core/validate.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";

const Input = z.strictObject({ fix: z.boolean().default(false) });

/** Admin-invoked: reports reservation drift (metric + log) and corrects it only when asked (`{ "fix": true }`). */
export async function reconcile(event: unknown, _context?: Context) {
  const { fix } = validate(Input, event ?? {});
  const drifts = await Order.reconcileReservations({ fix });
  if (!drifts) {
    logger.info("reconciliation skipped: another run holds the lease");
    return { fix, skipped: true, drifts: [] };
  }
  for (const drift of drifts)
    logger.warn("reservation drift", {
      sku_id: drift.skuId,
      shard: drift.shard,
      recorded: drift.recorded,
      expected: drift.expected,
      corrected: drift.corrected,
    });
  count("inventory_reservation_drift_total", {}, drifts.length);
  return { fix, drifts };
}

export const handler = lambdaHandler(reconcile);
