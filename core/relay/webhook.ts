import * as z from "zod";
import { DomainError, NotFoundError, ValidationError } from "../errors.js";
import { type Actor, Id } from "../schema.js";
import { validate } from "../validate.js";
import type { AuditEntry } from "./audit.js";
import { applyEvent } from "./change.js";
import { assertNoForbiddenData } from "./forbidden.js";
import { ShippingInfo } from "./model.js";
import { get } from "./query.js";
import { findListing } from "./reference.js";
import { type SignatureVerdict, secretsOf, verifySignature } from "./secrets.js";
import type { RelayEventType } from "./status.js";
import { webhookReceiptPut, webhookReceived } from "./store.js";

/** What a supplier reports about a relay it received (contract "Suppliers call back"). */
export const SupplierWebhookType = z.enum([
  "relay.accepted",
  "relay.rejected",
  "relay.shipped",
  "relay.delivered",
  "relay.cancelled",
]);

export const SupplierWebhookBody = z.strictObject({
  type: SupplierWebhookType,
  relayId: Id,
  reason: z.string().min(1).max(500).optional(),
  shippingInfo: ShippingInfo.optional(),
});
export type SupplierWebhookBody = z.infer<typeof SupplierWebhookBody>;

const commandOf: Record<z.infer<typeof SupplierWebhookType>, RelayEventType> = {
  "relay.accepted": "SUPPLIER_CONFIRMED",
  "relay.rejected": "CANCELLED",
  "relay.cancelled": "CANCELLED",
  "relay.shipped": "SHIPPED",
  "relay.delivered": "DELIVERED",
};

/** How long a `webhook-id` is remembered: a redelivery within it is answered 200 and changes nothing. */
export const WEBHOOK_DEDUP_SECONDS = 7 * 24 * 60 * 60;

export class InvalidSignatureError extends DomainError {
  constructor(readonly verdict: Exclude<SignatureVerdict, "ok">) {
    super(
      "INVALID_SIGNATURE",
      verdict === "stale"
        ? "the webhook timestamp is more than 5 minutes away"
        : "the webhook signature is missing or wrong",
    );
  }
}

class AlreadyApplied extends Error {}

export interface WebhookResult {
  relayId: string;
  status: string;
  /** The same `webhook-id` was applied before: nothing changed. */
  duplicate: boolean;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ValidationError("the body is not valid JSON", [{ path: "(body)", message: "malformed JSON" }]);
  }
}

/**
 * The body of a supplier's callback, read only once its signature is verified: Standard Webhooks signature over the
 * exact raw body with the supplier's current (or, for 24 h, previous) secret, timestamp within 5 minutes.
 */
async function verifiedBody(
  supplierId: string,
  rawBody: string,
  headers: Record<string, string | undefined>,
  now: Date,
): Promise<{ webhookId: string; input: SupplierWebhookBody }> {
  const secrets = await secretsOf(supplierId, now);
  const verdict = secrets ? verifySignature(secrets.verifying, headers, rawBody, now) : "mismatch";
  if (verdict !== "ok") throw new InvalidSignatureError(verdict);
  // Deduplication is by the whole id the signature covers: an id too long to store whole is refused, never cut.
  const webhookId = headers["webhook-id"]!;
  if (webhookId.length > 200)
    throw new ValidationError("the webhook-id header is longer than 200 characters", [
      { path: "header.webhook-id", message: "at most 200 characters" },
    ]);
  const body = parseJson(rawBody);
  assertNoForbiddenData(body);
  return { webhookId, input: validate(SupplierWebhookBody, body) };
}

/**
 * A supplier's signed callback, verified before anything is read from its body (see `verifiedBody`). Then the
 * relay must be one this supplier was sent (else 404), and the event goes through the relay's guarded transition
 * with the actor `supplier:<id>`, an inbound EXTERNAL_CALL audit entry, and the `webhook-id` remembered, all in one
 * transaction: a redelivery (same id) is 200 with nothing changed, however many race. A supplier event always moves
 * the relay's status, so a redelivery can never pass the guarded transition a second time.
 */
export async function receiveSupplierWebhook(
  supplierId: string,
  rawBody: string,
  headers: Record<string, string | undefined>,
  requestId: string,
  now = new Date(),
): Promise<WebhookResult> {
  const id = validate(Id, supplierId);
  const { webhookId, input } = await verifiedBody(id, rawBody, headers, now);
  const relay = await get(input.relayId);
  const listing = await findListing(relay.listingId);
  if ((relay.supplierId ?? listing?.supplierId) !== id) throw new NotFoundError("relay", input.relayId);

  const who: Actor = { actor: `supplier:${id}`, requestId };
  const inbound: AuditEntry = {
    kind: "EXTERNAL_CALL",
    before: null,
    after: null,
    reason: input.type,
    request: { direction: "inbound", webhookId, type: input.type },
    response: { status: 200 },
    success: true,
  };
  const receipt = webhookReceiptPut({
    supplierId: id,
    webhookId,
    relayId: relay.relayId,
    type: input.type,
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + WEBHOOK_DEDUP_SECONDS,
  });
  const command = commandOf[input.type];
  try {
    const result = await applyEvent(
      relay.relayId,
      {
        type: command,
        ...(input.reason ? { reason: input.reason } : {}),
        ...(input.shippingInfo ? { shippingInfo: input.shippingInfo } : {}),
        ...(command === "CANCELLED" ? { requestedBy: who.actor } : {}),
      },
      who,
      { audits: [inbound], extra: [receipt], explainExtra: () => new AlreadyApplied() },
    );
    return { relayId: result.relay.relayId, status: result.relay.status, duplicate: false };
  } catch (error) {
    // No read of the dedup item up front: a redelivery shows up here, as the dedup item's failed condition or (the
    // first delivery having moved the relay) as a transition the new status no longer allows. Either way, with the
    // dedup item present, this one is the duplicate; without it, the refusal stands.
    const raced =
      error instanceof AlreadyApplied ||
      (error instanceof DomainError && error.code === "INVALID_TRANSITION" && (await webhookReceived(id, webhookId)));
    if (raced) return { relayId: relay.relayId, status: (await get(relay.relayId)).status, duplicate: true };
    throw error;
  }
}
