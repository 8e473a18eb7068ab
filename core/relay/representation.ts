import * as z from "zod";
import type { RetryResult } from "./dispatch.js";
import { AuditKind, type Relay, type RelayAudit } from "./model.js";
import { type Listing, ListingInput, type Supplier, SupplierInput } from "./reference.js";
import { RelayStatus } from "./status.js";

/**
 * What the relay routes answer, as zod schemas: the OpenAPI document is generated from them, and the end-to-end
 * tests check every answer against that document. They describe output only; nothing parses requests with them.
 * The type checks at the bottom keep each one equal to the TypeScript type the code builds.
 */
const time = z.string().meta({ format: "date-time" });
const nullableTime = time.nullable();
const anyObject = z.record(z.string(), z.unknown());

export const LastErrorRepresentation = z.object({ message: z.string(), at: time, attempt: z.int() });

export const RelayRepresentation = z
  .object({
    relayId: z.string(),
    orderNumber: z.string(),
    listingId: z.string(),
    quantity: z.int(),
    unitPrice: z.int(),
    totalPrice: z.int(),
    currency: z.string(),
    externalOrderId: z.string().nullable(),
    ecommerceOrderId: z.string().nullable(),
    customerInfo: anyObject,
    shippingInfo: anyObject,
    metadata: z.looseObject({ source: z.string().optional(), lastError: LastErrorRepresentation.optional() }),
    status: z.enum(RelayStatus),
    supplierId: z
      .string()
      .nullable()
      .meta({ description: "the supplier the relay was handed to (set when the supplier accepts it)" }),
    cancelReason: z.string().nullable(),
    relayedAt: nullableTime,
    confirmedAt: nullableTime,
    shippedAt: nullableTime,
    deliveredAt: nullableTime,
    cancelledAt: nullableTime,
    refundedAt: nullableTime,
    dispatchAttempts: z.int().min(0),
    version: z.int(),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: "Relay" });

export const RelayAuditRepresentation = z
  .object({
    auditId: z.string(),
    relayId: z.string(),
    listingId: z.string(),
    orderNumber: z.string(),
    status: z.enum(RelayStatus).meta({ description: "the relay's status after the change" }),
    kind: z.enum(AuditKind),
    before: anyObject.nullable(),
    after: anyObject.nullable(),
    actor: z.string(),
    reason: z.string().nullable(),
    request: anyObject.nullable(),
    response: anyObject.nullable(),
    success: z.boolean(),
    latencyMs: z.number().nullable(),
    attempt: z.int().nullable().meta({ description: "the dispatch attempt an EXTERNAL_CALL belongs to" }),
    requestedBy: z.string().optional(),
    approvedBy: z.string().optional(),
    requestId: z.string(),
    createdAt: time,
  })
  .meta({ id: "RelayAuditEntry" });

export const RetryResultRepresentation = z
  .object({
    results: z.array(
      z.object({
        relayId: z.string(),
        outcome: z.enum(["relayed", "refused", "failed", "skipped", "not_found", "error"]),
        status: z.string().nullable(),
        attempt: z.int().nullable(),
        skipped: z.enum(["not_pending", "in_flight"]).optional(),
        message: z.string().optional(),
        attemptsExceeded: z.boolean(),
      }),
    ),
    more: z.boolean(),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: "pass as `cursor` to go on after these relays; null at the end of the queue" }),
  })
  .meta({ id: "RelayRetryResult" });

export const ListingRepresentation = ListingInput.extend({ listingId: z.string(), updatedAt: time }).meta({
  id: "Listing",
});
export const SupplierRepresentation = SupplierInput.extend({ supplierId: z.string(), updatedAt: time }).meta({
  id: "Supplier",
});

export const SupplierSecretRepresentation = z
  .object({ supplierId: z.string(), secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/) })
  .meta({ id: "SupplierSecret" });

export const SupplierWebhookResultRepresentation = z
  .object({ relayId: z.string(), status: z.enum(RelayStatus) })
  .meta({ id: "SupplierWebhookResult" });

/** Compile-time: A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<z.infer<typeof RelayRepresentation>["status"], Relay["status"]>>();
agree<Same<Omit<z.infer<typeof RelayRepresentation>, "metadata">, Omit<Relay, "metadata">>>();
agree<Same<z.infer<typeof RelayAuditRepresentation>, RelayAudit>>();
agree<
  Same<
    z.infer<typeof RetryResultRepresentation>["results"][number]["outcome"],
    RetryResult["results"][number]["outcome"]
  >
>();
agree<Same<Omit<z.infer<typeof RetryResultRepresentation>, "results">, Omit<RetryResult, "results">>>();
agree<Same<z.infer<typeof ListingRepresentation>, Listing>>();
agree<Same<z.infer<typeof SupplierRepresentation>, Supplier>>();
