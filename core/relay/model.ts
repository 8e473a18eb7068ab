import * as z from "zod";
import { ValidationError } from "../errors.js";
import { FREE_FORM_MAX_BYTES, FreeFormKey, freeForm, Id, StorableNumber } from "../schema.js";
import { stripLayout } from "../store/table.js";
import { RelayEventType, RelayStatus } from "./status.js";

const InfoKey = FreeFormKey.max(64);
const InfoScalar = z.union([z.string().max(1000), StorableNumber, z.boolean(), z.null()]);
/** A value of customerInfo / shippingInfo / metadata: a scalar or one level of named scalars (e.g. an address). */
const InfoValue = z.union([InfoScalar, z.record(InfoKey, InfoScalar)]);
const maxKeys = (n: number) => (value: Record<string, unknown>) => Object.keys(value).length <= n;
/** What `maxKeys(30)` checks, as the document states it. */
const maxPropertiesMeta = {
  override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
    jsonSchema.maxProperties = 30;
  },
};
/** What `InfoKey` checks, for objects whose extra keys are not a record's keys (`catchall`). */
const keysFit = (value: Record<string, unknown>) => Object.keys(value).every((key) => key.length <= 64);

/** Snapshot of the buyer for delivery (DS-4.1 §6.1: a copy; the original belongs to Ecommerce Core). */
export const CustomerInfo = freeForm(
  z.record(InfoKey, InfoValue).refine(maxKeys(30), "at most 30 fields"),
  FREE_FORM_MAX_BYTES.customerInfo,
).meta(maxPropertiesMeta);

const TrackingValue = z.string().min(1).max(100).nullable();

/** Delivery data; `carrier` and `trackingNumber` freeze once the relay is shipped. */
export const ShippingInfo = freeForm(
  z
    .object({ carrier: TrackingValue.optional(), trackingNumber: TrackingValue.optional() })
    .catchall(InfoValue)
    .meta({ propertyNames: { minLength: 1, maxLength: 64 } })
    .refine(maxKeys(30), "at most 30 fields")
    .refine(keysFit, "field names are at most 64 characters"),
  FREE_FORM_MAX_BYTES.shippingInfo,
).meta(maxPropertiesMeta);
export type ShippingInfo = z.infer<typeof ShippingInfo>;

/** Where a relay came from. `manual` relays may lack order ids; `ecommerce` relays need an `ecommerceOrderId`. */
export const Source = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be a lower-case channel name such as smartstore or manual");
export const MANUAL_SOURCE = "manual";
/** Sources that denote an order taken on this platform: they must go through Ecommerce Core (DS-4.1 §8). */
export const PLATFORM_SOURCES: readonly string[] = ["ecommerce"];

export const Metadata = freeForm(
  z
    .object({ source: Source.optional() })
    .catchall(InfoValue)
    .meta({ propertyNames: { minLength: 1, maxLength: 64 } })
    .refine(maxKeys(30), "at most 30 fields")
    .refine(keysFit, "field names are at most 64 characters")
    .refine((m) => !("lastError" in m), { message: "lastError is written by the service only", path: ["lastError"] }),
  FREE_FORM_MAX_BYTES.metadata,
).meta({
  override: ({ jsonSchema }) => {
    maxPropertiesMeta.override({ jsonSchema });
    jsonSchema.not = { required: ["lastError"] };
  },
});

export const Quantity = z.int().min(1).max(9999);

/**
 * The largest relay total accepted, in minor units: far below Number.MAX_SAFE_INTEGER, so the total is exact and
 * storable (a selling price up to 1e12 times a quantity up to 9999 would not be).
 */
export const MAX_RELAY_TOTAL = 1e15;

/** `unitPrice * quantity`, or 400 VALIDATION_ERROR naming `quantity` when that exceeds {@link MAX_RELAY_TOTAL}. */
export function relayTotal(unitPrice: number, quantity: number): number {
  const total = unitPrice * quantity;
  if (!(total <= MAX_RELAY_TOTAL)) {
    const message = `unitPrice ${unitPrice} x quantity ${quantity} exceeds the largest relay total (${MAX_RELAY_TOTAL} minor units); lower the quantity`;
    throw new ValidationError(`quantity: ${message}`, [{ path: "quantity", message }]);
  }
  return total;
}

/** The two rules of CreateRelayInput's refinement, in JSON Schema (null counts as absent, as `!value` does). */
function relayIdentifierRules(): Record<string, unknown>[] {
  const given = (field: string) => ({ required: [field], properties: { [field]: { type: "string" } } });
  const source = (values: readonly string[]) => ({
    required: ["metadata"],
    properties: { metadata: { required: ["source"], properties: { source: { enum: values } } } },
  });
  return [
    { anyOf: [given("externalOrderId"), given("ecommerceOrderId"), source([MANUAL_SOURCE])] },
    { anyOf: [{ not: source(PLATFORM_SOURCES) }, given("ecommerceOrderId")] },
  ];
}

export const CreateRelayInput = z
  .strictObject({
    listingId: Id,
    quantity: Quantity,
    externalOrderId: Id.nullable().optional(),
    ecommerceOrderId: Id.nullable().optional(),
    customerInfo: CustomerInfo.optional(),
    shippingInfo: ShippingInfo.optional(),
    metadata: Metadata.optional(),
  })
  .superRefine((input, ctx) => {
    const source = input.metadata?.source;
    if (!input.externalOrderId && !input.ecommerceOrderId && source !== MANUAL_SOURCE)
      ctx.addIssue({
        code: "custom",
        path: ["externalOrderId"],
        message: 'give externalOrderId or ecommerceOrderId (only metadata.source "manual" may omit both)',
      });
    if (source !== undefined && PLATFORM_SOURCES.includes(source) && !input.ecommerceOrderId)
      ctx.addIssue({
        code: "custom",
        path: ["ecommerceOrderId"],
        message: `an order from source "${source}" needs its ecommerceOrderId`,
      });
  })
  .meta({
    override: ({ jsonSchema }) => {
      jsonSchema.allOf = relayIdentifierRules();
    },
  });
export type CreateRelayInput = z.infer<typeof CreateRelayInput>;

/**
 * A PATCH names the fields to change. `listingId`, `unitPrice` and `totalPrice` are accepted by the schema only
 * so that naming them is answered with FIELD_IMMUTABLE rather than a generic validation error.
 */
export const PatchRelayInput = z
  .strictObject({
    quantity: Quantity.optional(),
    customerInfo: CustomerInfo.optional(),
    shippingInfo: ShippingInfo.optional(),
    ecommerceOrderId: Id.optional(),
    listingId: z.unknown().optional(),
    unitPrice: z.unknown().optional(),
    totalPrice: z.unknown().optional(),
  })
  .refine((input) => Object.keys(input).length > 0, "name at least one field to change")
  .meta({ override: { minProperties: 1 } });
export type PatchRelayInput = z.infer<typeof PatchRelayInput>;

export const RelayEventInput = z
  .strictObject({
    type: z.enum(RelayEventType),
    reason: z.string().min(1).max(500).optional(),
    /** Who asked for a cancellation or refund when it is not the caller (e.g. `buyer`, `channel:smartstore`). */
    requestedBy: z.string().min(1).max(200).optional(),
    shippingInfo: ShippingInfo.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.requestedBy !== undefined && input.type !== "CANCELLED" && input.type !== "REFUNDED")
      ctx.addIssue({
        code: "custom",
        path: ["requestedBy"],
        message: "only a CANCELLED or REFUNDED event names who requested it",
      });
  })
  .meta({
    override: {
      anyOf: [{ not: { required: ["requestedBy"] } }, { properties: { type: { enum: ["CANCELLED", "REFUNDED"] } } }],
    },
  });
export type RelayEventInput = z.infer<typeof RelayEventInput>;

/** The last failed dispatch attempt (DS-4.1 §7.2); cleared when a later attempt reaches the supplier's answer. */
export interface LastError {
  message: string;
  at: string;
  attempt: number;
}

/** The relay as clients see it. */
export interface Relay {
  relayId: string;
  orderNumber: string;
  listingId: string;
  quantity: number;
  unitPrice: number;
  totalPrice: number;
  currency: string;
  externalOrderId: string | null;
  ecommerceOrderId: string | null;
  customerInfo: Record<string, unknown>;
  shippingInfo: Record<string, unknown>;
  metadata: { source?: string; lastError?: LastError; [key: string]: unknown };
  status: RelayStatus;
  /** The supplier the relay was handed to (set when the supplier accepts it). */
  supplierId: string | null;
  cancelReason: string | null;
  relayedAt: string | null;
  confirmedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  cancelledAt: string | null;
  refundedAt: string | null;
  /** Dispatch attempts so far (each may include a few quick retries). */
  dispatchAttempts: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const AuditKind = ["STATUS_CHANGE", "DATA_CHANGE", "EXTERNAL_CALL", "CANCELLATION"] as const;
export type AuditKind = (typeof AuditKind)[number];

/** One entry of a relay's audit log (DS-4.1 §7.3). `status` is the relay's status after the change. */
export interface RelayAudit {
  auditId: string;
  relayId: string;
  listingId: string;
  orderNumber: string;
  status: RelayStatus;
  kind: AuditKind;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  actor: string;
  reason: string | null;
  request: Record<string, unknown> | null;
  response: Record<string, unknown> | null;
  success: boolean;
  latencyMs: number | null;
  /** The dispatch attempt an EXTERNAL_CALL belongs to. */
  attempt: number | null;
  /** CANCELLATION only: who asked for it and who approved it (DS-4.1 §7.3). */
  requestedBy?: string;
  approvedBy?: string;
  requestId: string;
  createdAt: string;
}

/** A stored item as the relay domain shows it: without its layout attributes and without `internal` ones. */
export function withoutAttributes(item: Record<string, unknown>, internal: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = stripLayout(item);
  for (const attr of internal) delete copy[attr];
  return copy;
}

/** Attributes of the stored relay that are not part of its representation. */
const internalRelayAttributes = ["dispatchLeaseUntil"] as const;

/** Attributes of a stored audit entry that only the stream publisher reads. */
const publisherAuditAttributes = ["publishAs", "ecommerceOrderId"] as const;

export function relayFromItem(item: Record<string, unknown>): Relay {
  return withoutAttributes(item, internalRelayAttributes) as unknown as Relay;
}

export function auditFromItem(item: Record<string, unknown>): RelayAudit {
  return withoutAttributes(item, publisherAuditAttributes) as unknown as RelayAudit;
}

export { RelayStatus };
