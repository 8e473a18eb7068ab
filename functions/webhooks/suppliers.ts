// Registers where the master signing secret comes from in AWS (SST Config).
import "../secrets.js";
import { DomainError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { pathParams } from "../../core/validate.js";
import { type HttpRequest, httpApi, type ObservedRoute, type RouteTable } from "../http/api.js";

/** Supplier callbacks are small; anything larger is refused before the signature is even computed. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

/** Log fields of a webhook call, as sent and bounded (a refused call is logged with them too). */
function callFields(request: HttpRequest): Record<string, unknown> {
  return {
    supplier_id: (request.params.supplierId ?? "").slice(0, 128),
    webhook_id: request.headers["webhook-id"]?.slice(0, 200) ?? null,
  };
}

/**
 * `POST /webhooks/suppliers/{supplierId}`: the one route without IAM. It is authenticated by the Standard Webhooks
 * signature over the exact raw body (never a re-serialization of the parsed one), then applied through the relay's
 * guarded transition (see Relay.receiveSupplierWebhook). A refused call (bad or stale signature, another supplier's
 * relay) changes nothing, is counted (`supplier_webhook_rejected_total{reason}`) and is logged with ids and the
 * reason only, never the body.
 */
const receive: ObservedRoute = {
  async handle(request) {
    const supplierId = request.params.supplierId ?? "";
    if (Buffer.byteLength(request.rawBody) > MAX_WEBHOOK_BYTES)
      throw new DomainError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_WEBHOOK_BYTES} bytes`);
    pathParams(request.params, "supplierId");
    const result = await Relay.receiveSupplierWebhook(supplierId, request.rawBody, request.headers, request.requestId);
    return {
      status: 200,
      body: { relayId: result.relayId, status: result.status },
      observe: {
        count: [["supplier_webhook_total", { outcome: result.duplicate ? "duplicate" : "applied" }]],
        log: {
          message: result.duplicate ? "supplier webhook redelivered; nothing changed" : "supplier webhook applied",
          fields: { ...callFields(request), relay_id: result.relayId, status: result.status },
        },
      },
    };
  },
  rejected(error, request) {
    const reason = error instanceof Relay.InvalidSignatureError ? error.verdict : error.code;
    return {
      count: [["supplier_webhook_rejected_total", { reason }]],
      log: {
        message: "supplier webhook refused",
        level: "warn",
        fields: { ...callFields(request), code: error.code, reason },
      },
    };
  },
};

export const routes: RouteTable = {
  "POST /webhooks/suppliers/{supplierId}": receive,
};

export const handler = httpApi(routes);
