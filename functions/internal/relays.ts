// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import type { DomainError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { pathParams, relocate } from "../../core/validate.js";
import {
  type HttpRequest,
  httpApi,
  type Observation,
  type ObservedResponse,
  type ObservedRoute,
  type RouteHandler,
  type RouteTable,
} from "../http/api.js";
import { reportDispatch, reportOf } from "../relay/dispatch.js";

/**
 * Dropship order relays (DS-4.1): internal and admin callers only (IAM in AWS), never under /api/v1. Logs carry
 * ids, codes and statuses only; a request body is never logged (it may hold personal data, and a refused one
 * may hold card data).
 */
const id = (request: HttpRequest) => pathParams(request.params, "relayId").relayId;
const listing = (request: HttpRequest) => pathParams(request.params, "listingId").listingId;
const supplier = (request: HttpRequest) => pathParams(request.params, "supplierId").supplierId;

/** What a refused relay write reports: `relay_forbidden_data_total` for forbidden data, and one log line. */
function rejection(what: string, error: DomainError, request: HttpRequest): Observation {
  const violations = error.code === "FORBIDDEN_DATA" ? (error.details.violations as unknown) : undefined;
  return {
    count: violations ? [["relay_forbidden_data_total"]] : [],
    log: {
      message: `${what} rejected`,
      fields: { relay_id: request.params.relayId ?? null, code: error.code, ...(violations ? { violations } : {}) },
    },
  };
}

const create: ObservedRoute = {
  async handle(request): Promise<ObservedResponse> {
    const { relay, created } = await Relay.create(request.body, request);
    const observe: Observation = {
      count: [["relay_create_total", { status: created ? "created" : "replayed" }]],
      log: {
        message: created ? "relay created" : "relay create replayed",
        fields: {
          relay_id: relay.relayId,
          listing_id: relay.listingId,
          order_number: relay.orderNumber,
          status_transition: created ? "->pending" : null,
        },
      },
    };
    if (!created) return { status: 200, body: relay, headers: { "idempotent-replayed": "true" }, observe };
    return { status: 201, body: relay, headers: { location: `/internal/relays/${relay.relayId}` }, observe };
  },
  rejected(error, request) {
    const observation = rejection("relay create", error, request);
    return { ...observation, count: [["relay_create_total", { status: error.code }], ...(observation.count ?? [])] };
  },
};

/** A change to one relay: 200 with the relay as it is now, one log line naming it, and its refusals reported. */
function relayChange<R extends { relay: unknown }>(
  what: string,
  change: (relayId: string, request: HttpRequest) => Promise<R>,
  logOf: (result: R) => { message: string; fields?: Record<string, unknown> },
): ObservedRoute {
  return {
    async handle(request) {
      const relayId = id(request);
      const result = await change(relayId, request);
      const log = logOf(result);
      return {
        status: 200,
        body: result.relay,
        observe: { log: { message: log.message, fields: { relay_id: relayId, ...log.fields } } },
      };
    },
    rejected: (error, request) => rejection(what, error, request),
  };
}

const patch = relayChange(
  "relay patch",
  (relayId, request) => Relay.patch(relayId, request.body, request),
  (result) => ({ message: result.changed ? "relay changed" : "relay patch changed nothing" }),
);

const applyEvent = relayChange(
  "relay event",
  (relayId, request) => Relay.applyEvent(relayId, request.body, request),
  (result) => ({ message: "relay event applied", fields: { status_transition: result.statusTransition ?? null } }),
);

/** Reported by the dispatch path itself (shared with the RELAY_CREATED target and the admin retry). */
const dispatchOnDemand: RouteHandler = async (request) => {
  const result = await Relay.dispatchOnDemand(id(request), request, (r) =>
    reportDispatch(reportOf(r), { request_id: request.requestId, trigger: "on_demand", actor: request.actor }),
  );
  return { status: 200, body: result.relay };
};

export const routes: RouteTable = {
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
  "POST /internal/relays/{relayId}/dispatch": dispatchOnDemand,
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
