// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import { DomainError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { pathParams, relocate } from "../../core/validate.js";
import { type HttpRequest, type HttpResponse, httpApi, type RouteHandler } from "../http/api.js";
import { count, logger } from "../powertools.js";
import { reportDispatch, reportOf } from "../relay/dispatch.js";

/**
 * Dropship order relays (DS-4.1): internal and admin callers only (IAM in AWS), never under /api/v1. Logs carry
 * ids, codes and statuses only; a request body is never logged (it may hold personal data, and a refused one
 * may hold card data).
 */
const id = (request: HttpRequest) => pathParams(request.params, "relayId").relayId;
const listing = (request: HttpRequest) => pathParams(request.params, "listingId").listingId;
const supplier = (request: HttpRequest) => pathParams(request.params, "supplierId").supplierId;

function logRejection(request: HttpRequest, what: string, error: unknown): void {
  if (!(error instanceof DomainError)) return;
  const violations = error.code === "FORBIDDEN_DATA" ? (error.details.violations as unknown) : undefined;
  if (violations) count("relay_forbidden_data_total");
  logger.info(`${what} rejected`, {
    request_id: request.requestId,
    relay_id: request.params.relayId ?? null,
    code: error.code,
    ...(violations ? { violations } : {}),
  });
}

const create: RouteHandler = async (request): Promise<HttpResponse> => {
  try {
    const { relay, created } = await Relay.create(request.body, request);
    count("relay_create_total", { status: created ? "created" : "replayed" });
    logger.info(created ? "relay created" : "relay create replayed", {
      request_id: request.requestId,
      relay_id: relay.relayId,
      listing_id: relay.listingId,
      order_number: relay.orderNumber,
      status_transition: created ? "->pending" : null,
    });
    if (!created) return { status: 200, body: relay, headers: { "idempotent-replayed": "true" } };
    return { status: 201, body: relay, headers: { location: `/internal/relays/${relay.relayId}` } };
  } catch (error) {
    if (error instanceof DomainError) count("relay_create_total", { status: error.code });
    logRejection(request, "relay create", error);
    throw error;
  }
};

const patch: RouteHandler = async (request) => {
  try {
    const result = await Relay.patch(id(request), request.body, request);
    logger.info(result.changed ? "relay changed" : "relay patch changed nothing", {
      request_id: request.requestId,
      relay_id: id(request),
    });
    return { status: 200, body: result.relay };
  } catch (error) {
    logRejection(request, "relay patch", error);
    throw error;
  }
};

const applyEvent: RouteHandler = async (request) => {
  try {
    const result = await Relay.applyEvent(id(request), request.body, request);
    logger.info("relay event applied", {
      request_id: request.requestId,
      relay_id: id(request),
      status_transition: result.statusTransition ?? null,
    });
    return { status: 200, body: result.relay };
  } catch (error) {
    logRejection(request, "relay event", error);
    throw error;
  }
};

const dispatch: RouteHandler = async (request) => {
  const result = await Relay.dispatchOnDemand(id(request), request, (r) =>
    reportDispatch(reportOf(r), { request_id: request.requestId, trigger: "on_demand", actor: request.actor }),
  );
  return { status: 200, body: result.relay };
};

export const routes: Record<string, RouteHandler> = {
  "PUT /internal/listings/{listingId}": async (r) => ({
    status: 200,
    body: await Relay.putListing(listing(r), r.body),
  }),
  "GET /internal/listings/{listingId}": async (r) => ({ status: 200, body: await Relay.getListing(listing(r)) }),
  "PUT /internal/suppliers/{supplierId}": async (r) => ({
    status: 200,
    body: await Relay.putSupplier(supplier(r), r.body),
  }),
  "GET /internal/suppliers/{supplierId}": async (r) => ({ status: 200, body: await Relay.getSupplier(supplier(r)) }),
  // Shown once: the response must not be cached anywhere on the way.
  "POST /internal/suppliers/{supplierId}/secret": async (r) => ({
    status: 200,
    body: await Relay.issueSecret(supplier(r)),
    headers: { "cache-control": "no-store" },
  }),
  "POST /internal/relays": create,
  "GET /internal/relays": async (r) => ({
    status: 200,
    body: await Relay.list(r.query).catch((error: unknown) => relocate(error, "query")),
  }),
  "GET /internal/relays/{relayId}": async (r) => ({ status: 200, body: await Relay.get(id(r)) }),
  "PATCH /internal/relays/{relayId}": patch,
  "POST /internal/relays/{relayId}/dispatch": dispatch,
  "POST /internal/relays/{relayId}/events": applyEvent,
  "GET /internal/relays/{relayId}/audit": async (r) => {
    const relayId = id(r);
    return {
      status: 200,
      body: await Relay.audit(relayId, r.query).catch((error: unknown) => relocate(error, "query")),
    };
  },
};

export const handler = httpApi(routes);
