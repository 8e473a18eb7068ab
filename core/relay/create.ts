import { randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { ConcurrencyError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import type { Actor } from "../schema.js";
import { validate } from "../validate.js";
import type { AuditEntry } from "./audit.js";
import { ecommerceOrderNotFound } from "./change.js";
import { assertNoForbiddenData } from "./forbidden.js";
import { CreateRelayInput, type Relay, relayFromItem, relayTotal } from "./model.js";
import { readRelayItem } from "./query.js";
import { getListing, type Listing } from "./reference.js";
import { writeNewRelay } from "./store.js";

export interface CreateResult {
  relay: Relay;
  /** False when an existing relay for the same external or ecommerce order was returned and nothing was written. */
  created: boolean;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `DS-YYYYMMDD-XXXXXXXX`: readable over the phone (Crockford base32), unique by a conditional write. */
export function newOrderNumber(now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const suffix = [...randomBytes(8)].map((b) => CROCKFORD[b % 32]).join("");
  return `DS-${day}-${suffix}`;
}

const MAX_ATTEMPTS = 4;

/** Identifying fields of a relay: what a creation audit entry and the RELAY_CREATED event carry (no personal data). */
export function creationSummary(relay: Relay): Record<string, unknown> {
  return {
    status: relay.status,
    listingId: relay.listingId,
    quantity: relay.quantity,
    unitPrice: relay.unitPrice,
    totalPrice: relay.totalPrice,
    currency: relay.currency,
    externalOrderId: relay.externalOrderId,
    ecommerceOrderId: relay.ecommerceOrderId,
    source: relay.metadata.source ?? null,
  };
}

function buildRelay(input: CreateRelayInput, listing: Listing, now: Date): Relay {
  const at = now.toISOString();
  return {
    relayId: ulid(now.getTime()),
    orderNumber: newOrderNumber(now),
    listingId: listing.listingId,
    quantity: input.quantity,
    unitPrice: listing.sellingPrice,
    totalPrice: relayTotal(listing.sellingPrice, input.quantity),
    currency: listing.currency,
    externalOrderId: input.externalOrderId ?? null,
    ecommerceOrderId: input.ecommerceOrderId ?? null,
    customerInfo: input.customerInfo ?? {},
    shippingInfo: { carrier: null, trackingNumber: null, ...input.shippingInfo },
    metadata: { ...input.metadata },
    status: "pending",
    supplierId: null,
    cancelReason: null,
    relayedAt: null,
    confirmedAt: null,
    shippedAt: null,
    deliveredAt: null,
    cancelledAt: null,
    refundedAt: null,
    dispatchAttempts: 0,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
}

/** The creation audit entry, published as RELAY_CREATED. */
function creationAudit(relay: Relay): AuditEntry {
  return {
    kind: "STATUS_CHANGE",
    before: null,
    after: creationSummary(relay),
    reason: "created",
    publishAs: "RELAY_CREATED",
  };
}

/**
 * Creates a relay for an order of a SellerListing, all or nothing, in one TransactWriteItems:
 * the selling price copied from a consistent read of the listing (no write on the listing item); a condition check that
 * the named ecommerce order exists; uniqueness items for `(listingId, externalOrderId)`, for `ecommerceOrderId`
 * and for the order number; the relay; and its creation audit entry (published as RELAY_CREATED).
 * A repeat of an existing external or ecommerce order returns that relay and writes nothing, however many
 * repeats race. Card data and credentials are refused before anything else (FORBIDDEN_DATA).
 */
export async function create(rawInput: unknown, who: Actor): Promise<CreateResult> {
  assertNoForbiddenData(rawInput);
  const input = validate(CreateRelayInput, rawInput);
  const replans = replanAfterLostRace(MAX_ATTEMPTS);
  do {
    const listing = await getListing(input.listingId);
    const relay = buildRelay(input, listing, new Date());
    const refusal = await writeNewRelay(relay, [creationAudit(relay)], who);
    if (!refusal) return { relay, created: true };
    if (refusal.kind === "duplicate") return { relay: await existingRelay(refusal.relayId), created: false };
    if (refusal.kind === "ecommerce_order_not_found") throw ecommerceOrderNotFound(refusal.ecommerceOrderId);
    // The order number collided: build anew.
  } while (await replans.wait());
  throw new ConcurrencyError("the relay could not be created; retry the request");
}

/** The relay an existing uniqueness item names: what a repeated creation answers with. */
async function existingRelay(relayId: string | undefined): Promise<Relay> {
  const item = relayId ? await readRelayItem(relayId) : undefined;
  if (!item) throw new ConcurrencyError("the existing relay for this order could not be read; retry the request");
  return relayFromItem(item);
}
