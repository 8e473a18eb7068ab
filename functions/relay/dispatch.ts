// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import type { Context, EventBridgeEvent } from "aws-lambda";
import * as z from "zod";
import { DomainError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { count, logger } from "../powertools.js";
import { tracedHandler } from "../tracing.js";

/** What every dispatch path (RELAY_CREATED, on demand, admin retry) reports about one attempt. */
export interface DispatchReport {
  relayId: string;
  outcome: string;
  status: string | null;
  attempt: number | null;
  attemptsExceeded: boolean;
  message?: string | undefined;
  skipped?: string | undefined;
}

/**
 * Logs and counts one dispatch attempt: `relay_dispatch_total{outcome}`, `relay_dispatch_failed_total` for a
 * failed send and `relay_attempts_exceeded_total` (alarmed) when a relay keeps failing past the threshold, so a
 * stuck relay is never silent. Only ids, statuses and the failure message are logged, never relay data.
 */
export function reportDispatch(
  report: DispatchReport,
  context: { request_id: string; trigger: string; actor: string },
): void {
  count("relay_dispatch_total", { outcome: report.outcome });
  const fields = {
    ...context,
    relay_id: report.relayId,
    outcome: report.outcome,
    status: report.status,
    attempt: report.attempt,
    ...(report.skipped ? { skipped: report.skipped } : {}),
    ...(report.message ? { error_message: report.message } : {}),
  };
  if (report.outcome === "failed") {
    count("relay_dispatch_failed_total");
    logger.warn("relay dispatch failed; the relay stays pending until an admin retries", fields);
  } else {
    logger.info("relay dispatch", fields);
  }
  if (report.attemptsExceeded) {
    count("relay_attempts_exceeded_total");
    logger.error("relay dispatch attempts exceeded the threshold; manual intervention needed", fields);
  }
}

export function reportOf(result: Relay.DispatchResult): DispatchReport {
  return {
    relayId: result.relay.relayId,
    outcome: result.outcome,
    status: result.relay.status,
    attempt: result.attempt,
    attemptsExceeded: result.attemptsExceeded,
    message: result.message,
    skipped: result.skipped,
  };
}

const RelayCreatedEvent = z.looseObject({
  id: z.string().min(1),
  "detail-type": z.literal("RELAY_CREATED"),
  detail: z.looseObject({ relayId: z.string().min(1) }),
});

/** The actor recorded on audit entries of automatic dispatches. */
export const DISPATCHER_ACTOR = "system:relay-dispatcher";

/**
 * EventBridge target of RELAY_CREATED: sends the new relay to its supplier. A relay already dispatched (or being
 * dispatched) is a no-op, so a redelivered event is harmless. Business outcomes (supplier failure or refusal, an
 * unknown relay, a malformed event) are recorded and logged, never thrown: only infrastructure faults throw, so
 * Lambda's retry of the event is reserved for them.
 */
export async function dispatchRelayCreated(
  event: EventBridgeEvent<string, unknown>,
  _context?: Context,
): Promise<{ relayId?: string; outcome: string }> {
  const parsed = RelayCreatedEvent.safeParse(event);
  if (!parsed.success) {
    count("relay_event_ignored_total", { reason: "malformed" });
    logger.warn("ignored a malformed RELAY_CREATED event", { event_id: (event as { id?: unknown }).id ?? null });
    return { outcome: "ignored" };
  }
  const { relayId } = parsed.data.detail;
  const context = { request_id: parsed.data.id, trigger: "auto", actor: DISPATCHER_ACTOR };
  try {
    const result = await Relay.dispatch(
      relayId,
      { actor: DISPATCHER_ACTOR, requestId: parsed.data.id },
      { trigger: "auto" },
    );
    reportDispatch(reportOf(result), context);
    return { relayId, outcome: result.outcome };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    count("relay_event_ignored_total", { reason: error.code });
    logger.warn("RELAY_CREATED not dispatched", { ...context, relay_id: relayId, code: error.code });
    return { relayId, outcome: "ignored" };
  }
}

// Traced: the supplier call is the latency worth seeing here.
export const handler = tracedHandler(dispatchRelayCreated);
