import { ValidationError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { httpApi, type RouteHandler } from "../http/api.js";
import { logger } from "../powertools.js";
import { reportDispatch } from "../relay/dispatch.js";

/**
 * `POST /admin/relays/retry` `{ relayIds?, reason?, limit? }`: the admin's explicit re-dispatch (the same logic as
 * the RelayRetry Lambda), answered with a result per relay. The caller is the actor on every audit entry.
 */
const retry: RouteHandler = async (request) => {
  const body = request.body ?? {};
  if (typeof body !== "object" || Array.isArray(body))
    throw new ValidationError("the body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
  const input = { reason: "admin retry", ...(body as Record<string, unknown>) };
  const result = await Relay.retry(input, request, (relayId, error) =>
    logger.error("relay retry failed", { relay_id: relayId, request_id: request.requestId, error: error as Error }),
  );
  for (const item of result.results) reportDispatch(item, { request_id: request.requestId, trigger: "retry", actor: request.actor });
  return { status: 200, body: result };
};

export const routes: Record<string, RouteHandler> = {
  "POST /admin/relays/retry": retry,
};

export const handler = httpApi(routes);
