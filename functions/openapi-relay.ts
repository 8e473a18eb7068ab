import * as z from "zod";
import { Relay } from "../core/relay/index.js";
import * as Representation from "../core/relay/representation.js";
import { Id } from "../core/schema.js";
import { linksTo, type OperationSpec, pageOf } from "./openapi.js";

const RelaySchema = Representation.RelayRepresentation;
const AuditSchema = Representation.RelayAuditRepresentation;
const RetryResult = Representation.RetryResultRepresentation;
const Listing = Representation.ListingRepresentation;
const Supplier = Representation.SupplierRepresentation;
/** The body of a route that reads none: ignored when sent, but it must still be a JSON object. */
const IgnoredBody = z.looseObject({}).meta({ description: "not read; a body, when sent, must be a JSON object" });

const relayPath = z.object({ relayId: Id });
const listingPath = z.object({ listingId: Id });
const supplierPath = z.object({ supplierId: Id });
const one = (description: string) => [{ status: 200, schema: RelaySchema, description }];

export const relayOperations: Record<string, OperationSpec> = {
  "PUT /internal/listings/{listingId}": {
    summary: "Store a SellerListing",
    path: listingPath,
    body: Relay.ListingInput,
    success: [{ status: 200, schema: Listing, description: "the listing" }],
    errors: [],
  },
  "GET /internal/listings/{listingId}": {
    summary: "A SellerListing",
    path: listingPath,
    success: [{ status: 200, schema: Listing, description: "the listing" }],
    errors: ["LISTING_NOT_FOUND"],
  },
  "PUT /internal/suppliers/{supplierId}": {
    summary: "Store a supplier and where its relays are sent",
    path: supplierPath,
    body: Relay.SupplierInput,
    success: [{ status: 200, schema: Supplier, description: "the supplier" }],
    errors: [],
  },
  "GET /internal/suppliers/{supplierId}": {
    summary: "A supplier",
    path: supplierPath,
    success: [{ status: 200, schema: Supplier, description: "the supplier" }],
    errors: ["SUPPLIER_NOT_FOUND"],
  },
  "POST /internal/suppliers/{supplierId}/secret": {
    summary: "Issue the supplier's next signing secret (shown once; the previous one keeps verifying for 24 h)",
    path: supplierPath,
    body: IgnoredBody,
    bodyRequired: false,
    success: [
      {
        status: 200,
        schema: Representation.SupplierSecretRepresentation,
        description: "the new secret, `whsec_<base64 key>`: store it now, it is never shown again",
      },
    ],
    errors: ["SUPPLIER_NOT_FOUND"],
  },
  "POST /webhooks/suppliers/{supplierId}": {
    summary: "A supplier reports progress on a relay it received (Standard Webhooks signature; no IAM)",
    path: supplierPath,
    headers: z.object({
      "webhook-id": z.string().min(1).max(200),
      "webhook-timestamp": z
        .string()
        .regex(/^\d{1,12}$/)
        .meta({ description: "unix seconds; refused when more than 5 minutes away" }),
      "webhook-signature": z
        .string()
        .meta({ description: 'space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`' }),
    }),
    body: Relay.SupplierWebhookBody,
    success: [
      {
        status: 200,
        schema: Representation.SupplierWebhookResultRepresentation,
        description: "applied, or a redelivery of a `webhook-id` already applied (nothing changed)",
      },
    ],
    errors: [
      "INVALID_SIGNATURE",
      "NOT_FOUND",
      "INVALID_TRANSITION",
      "FORBIDDEN_DATA",
      "PAYLOAD_TOO_LARGE",
      "CONCURRENT_MODIFICATION",
    ],
  },
  "POST /internal/relays": {
    summary: "Create a relay (idempotent on (listingId, externalOrderId) and on ecommerceOrderId)",
    body: Relay.CreateRelayInput,
    success: [
      {
        status: 201,
        schema: RelaySchema,
        description: "relay created (dispatched automatically)",
        links: linksTo(
          [
            "GET /internal/relays/{relayId}",
            "PATCH /internal/relays/{relayId}",
            "POST /internal/relays/{relayId}/dispatch",
            "POST /internal/relays/{relayId}/events",
            "GET /internal/relays/{relayId}/audit",
          ],
          "relayId",
        ),
      },
      { status: 200, schema: RelaySchema, description: "the existing relay for this external or ecommerce order" },
    ],
    errors: [
      "FORBIDDEN_DATA",
      "LISTING_NOT_FOUND",
      "ECOMMERCE_ORDER_NOT_FOUND",
      "ECOMMERCE_ORDER_ALREADY_RELAYED",
      "PAYLOAD_TOO_LARGE",
    ],
  },
  "GET /internal/relays": {
    summary: "Relays by listing or by status, newest first",
    query: Relay.ListRelaysInput.partial({ limit: true }),
    success: [{ status: 200, schema: pageOf(RelaySchema, "RelayPage"), description: "one page" }],
    errors: [],
  },
  "GET /internal/relays/{relayId}": {
    summary: "A relay",
    path: relayPath,
    success: one("the relay"),
    errors: ["NOT_FOUND"],
  },
  "PATCH /internal/relays/{relayId}": {
    summary: "Change quantity, customerInfo, shippingInfo or ecommerceOrderId where DS-4.1 §5.3 allows it",
    path: relayPath,
    body: Relay.PatchRelayInput,
    success: one("the relay after the change"),
    errors: [
      "NOT_FOUND",
      "FIELD_IMMUTABLE",
      "FORBIDDEN_DATA",
      "ECOMMERCE_ORDER_NOT_FOUND",
      "ECOMMERCE_ORDER_ALREADY_RELAYED",
      "CONCURRENT_MODIFICATION",
    ],
  },
  "POST /internal/relays/{relayId}/dispatch": {
    summary:
      "Send a pending relay to its supplier now (502 RELAY_SEND_FAILED carries relayId, currentStatus, dispatchAttempts, lastError)",
    path: relayPath,
    body: IgnoredBody,
    bodyRequired: false,
    success: one("the relay after the attempt"),
    errors: ["NOT_FOUND", "INVALID_TRANSITION", "RELAY_SEND_FAILED", "CONCURRENT_MODIFICATION"],
  },
  "POST /internal/relays/{relayId}/events": {
    summary: "Record supplier progress (confirmed, shipped, delivered) or a cancellation / refund",
    path: relayPath,
    body: Relay.RelayEventInput,
    success: one("the relay after the event"),
    errors: ["NOT_FOUND", "INVALID_TRANSITION", "FORBIDDEN_DATA", "CONCURRENT_MODIFICATION"],
  },
  "GET /internal/relays/{relayId}/audit": {
    summary: "The relay's audit log, oldest first",
    path: relayPath,
    query: Relay.ListAuditInput.partial({ limit: true }),
    success: [{ status: 200, schema: pageOf(AuditSchema, "RelayAuditPage"), description: "one page" }],
    errors: ["NOT_FOUND"],
  },
  "POST /admin/relays/retry": {
    summary: "Re-dispatch the named relays, or pending relays whose last attempt failed",
    body: Relay.RetryInput.partial({ reason: true }).extend({
      relayIds: z
        .array(Id)
        .min(1)
        .max(Relay.RETRY_CONCURRENCY)
        .optional()
        .meta({ description: "at most one round per HTTP call; the RelayRetry function takes up to 100" }),
    }),
    bodyRequired: false,
    success: [{ status: 200, schema: RetryResult, description: "one result per relay" }],
    errors: [],
  },
};
