import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { DomainError } from "../../core/errors.js";
import { Relay } from "../../core/relay/index.js";
import { httpHandler, respond } from "../http/api.js";
import { count, logger } from "../powertools.js";

/** Supplier callbacks are small; anything larger is refused before the signature is even computed. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

/**
 * `POST /webhooks/suppliers/{supplierId}`: the one route without IAM. It is authenticated by the Standard Webhooks
 * signature over the exact raw body (so the body is read raw here, never re-serialized), then applied through the
 * relay's guarded transition (see Relay.receiveSupplierWebhook). A refused call (bad or stale signature, another
 * supplier's relay) changes nothing, is counted (`supplier_webhook_rejected_total{reason}`) and is logged with ids
 * and the reason only, never the body.
 */
export function receive(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return respond(event, async ({ headers, requestId }) => {
    const supplierId = event.pathParameters?.supplierId ?? "";
    const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body) : "";
    const log = { request_id: requestId, supplier_id: supplierId.slice(0, 128), webhook_id: headers["webhook-id"]?.slice(0, 200) ?? null };
    try {
      if (Buffer.byteLength(raw) > MAX_WEBHOOK_BYTES) throw new DomainError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_WEBHOOK_BYTES} bytes`);
      const result = await Relay.receiveSupplierWebhook(supplierId, raw, headers, requestId);
      count("supplier_webhook_total", { outcome: result.duplicate ? "duplicate" : "applied" });
      logger.info(result.duplicate ? "supplier webhook redelivered; nothing changed" : "supplier webhook applied", { ...log, relay_id: result.relayId, status: result.status });
      return { status: 200, body: { relayId: result.relayId, status: result.status } };
    } catch (error) {
      if (error instanceof DomainError) {
        const reason = error instanceof Relay.InvalidSignatureError ? error.verdict : error.code;
        count("supplier_webhook_rejected_total", { reason });
        logger.warn("supplier webhook refused", { ...log, code: error.code, reason });
      }
      throw error;
    }
  });
}

export const handler = httpHandler(receive);
