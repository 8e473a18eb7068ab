// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import type { Context } from "aws-lambda";
import * as z from "zod";
import { Relay } from "../../core/relay/index.js";
import { validate } from "../../core/validate.js";
import { logger } from "../powertools.js";
import { reportDispatch } from "../relay/dispatch.js";
import { tracedHandler } from "../tracing.js";

/** `{ relayIds?, reason, actor? }`: actor names the admin (a direct invocation carries no caller identity). */
const RetryEvent = z.looseObject({ actor: z.string().min(1).max(200).optional() });

/**
 * The RelayRetry Lambda admins invoke: re-dispatches the named relays, or every pending relay whose last attempt
 * failed, and returns a result per relay. Invalid input throws (the invoker sees why); per-relay failures are
 * results, not exceptions.
 */
export async function retryRelays(event: unknown, context: Context): Promise<Relay.RetryResult> {
  const { actor, ...input } = validate(RetryEvent, event ?? {});
  const who = { actor: actor ?? `lambda:${context.functionName}`, requestId: context.awsRequestId };
  const result = await Relay.retry(input, who, (relayId, error) =>
    logger.error("relay retry failed", { relay_id: relayId, request_id: who.requestId, error: error as Error }),
  );
  for (const item of result.results)
    reportDispatch(item, { request_id: who.requestId, trigger: "retry", actor: who.actor });
  logger.info("relay retry done", {
    request_id: who.requestId,
    actor: who.actor,
    relays: result.results.length,
    more: result.more,
  });
  return result;
}

// Traced: the supplier call is the latency worth seeing here.
export const handler = tracedHandler(retryRelays);
