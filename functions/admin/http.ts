// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import { ValidationError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { httpApi, type RouteHandler } from "../http/api.js";
import { logger } from "../powertools.js";
import { reportDispatch } from "../relay/dispatch.js";

/** Relays one HTTP retry may dispatch: one round of concurrent attempts, so the call ends inside API Gateway's 29 s. */
const HTTP_RETRY_MAX = Relay.RETRY_CONCURRENCY;

/**
 * `POST /admin/relays/retry` `{ relayIds?, reason?, limit? }`: the admin's explicit re-dispatch (the same logic as
 * the RelayRetry Lambda), answered with a result per relay. The caller is the actor on every audit entry.
 * One call handles at most one round of relays: more than {@link HTTP_RETRY_MAX} `relayIds` are refused (the
 * RelayRetry function takes larger batches), and without ids `limit` defaults to and is capped at that round.
 */
const retry: RouteHandler = async (request) => {
  const body = request.body ?? {};
  if (typeof body !== "object" || Array.isArray(body))
    throw new ValidationError("the body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
  const input: Record<string, unknown> = { reason: "admin retry", ...(body as Record<string, unknown>) };
  if (Array.isArray(input.relayIds) && input.relayIds.length > HTTP_RETRY_MAX) {
    const message = `at most ${HTTP_RETRY_MAX} relays per call over HTTP (got ${input.relayIds.length}); invoke the RelayRetry function for larger batches`;
    throw new ValidationError(`relayIds: ${message}`, [{ path: "relayIds", message }]);
  }
  // Only a limit the document accepts (1..100) is capped; anything else reaches the schema and is refused.
  const limit = input.limit;
  if (
    input.relayIds === undefined &&
    Number.isInteger(limit) &&
    (limit as number) > HTTP_RETRY_MAX &&
    (limit as number) <= 100
  )
    input.limit = HTTP_RETRY_MAX;
  const result = await Relay.retry(input, request, (relayId, error) =>
    logger.error("relay retry failed", { relay_id: relayId, request_id: request.requestId, error: error as Error }),
  );
  for (const item of result.results)
    reportDispatch(item, { request_id: request.requestId, trigger: "retry", actor: request.actor });
  return { status: 200, body: result };
};

export const routes: Record<string, RouteHandler> = {
  "POST /admin/relays/retry": retry,
};

export const handler = httpApi(routes);
