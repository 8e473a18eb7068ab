import { randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { ConcurrencyError, DomainError } from "../errors.js";
import type { Actor } from "../schema.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { Entity, keys, type RelayQueue } from "../store/table.js";
import { type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { validate } from "../validate.js";
import { auditPuts } from "./audit.js";
import { attemptAlarmThreshold } from "./config.js";
import { assertNoForbiddenData } from "./forbidden.js";
import { CreateRelayInput, type Relay, relayFromItem, relayTotal } from "./model.js";
import { readRelayItem } from "./query.js";
import { getListing, type Listing } from "./reference.js";

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

/**
 * The queue a relay waits in (gsi3): pending after a failed attempt, to `RETRY`; past the attempt threshold, to
 * `ATTENTION` (listed for a person, never retried blindly); otherwise in none (the index is sparse).
 */
export function relayQueueOf(relay: Relay): RelayQueue | undefined {
  if (relay.status !== "pending" || !relay.metadata.lastError) return undefined;
  return relay.dispatchAttempts > attemptAlarmThreshold() ? "ATTENTION" : "RETRY";
}

/**
 * The relay's own item with its index keys: by listing (gsi1), by status (gsi2), in a failure queue (gsi3), each
 * spread over shards by relay id. The indexes hold keys only, so rewriting the item costs an index write only when
 * one of these keys changes.
 */
export function relayItem(relay: Relay): Record<string, unknown> {
  const queue = relayQueueOf(relay);
  return {
    ...keys.relay(relay.relayId),
    entity: Entity.Relay,
    gsi1pk: keys.relaysByListing(relay.listingId, relay.relayId),
    gsi1sk: relay.relayId,
    gsi2pk: keys.relaysByStatus(relay.status, relay.relayId),
    gsi2sk: relay.relayId,
    ...(queue ? { gsi3pk: keys.relayQueue(queue, relay.relayId), gsi3sk: relay.relayId } : {}),
    ...relay,
  };
}

function uniquePut(tableName: string, key: Record<string, string>, relay: Relay, what: string): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: { ...key, entity: Entity.RelayUnique, relayId: relay.relayId, what, createdAt: relay.createdAt },
      ConditionExpression: "attribute_not_exists(pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
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
  const { tableName } = db();

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const listing = await getListing(input.listingId);
    const relay = buildRelay(input, listing, new Date());

    // No ConditionCheck on the listing: it would be a transactional write on one item per listing, capping a
    // best-selling listing near 500 relays/s. The price is copied from a consistent read, exactly as if the relay
    // had been created just before any change that races it; later changes never touch it (DS-4.1 §5.3).
    const actions: TransactItem[] = [];
    const index = { orderCheck: -1, external: -1, ecommerce: -1, orderNumber: -1 };
    if (relay.ecommerceOrderId) {
      index.orderCheck = actions.length;
      actions.push({
        ConditionCheck: {
          TableName: tableName,
          Key: keys.order(relay.ecommerceOrderId),
          ConditionExpression: "attribute_exists(pk)",
        },
      });
    }
    if (relay.externalOrderId) {
      index.external = actions.length;
      actions.push(
        uniquePut(
          tableName,
          keys.relayByExternalOrder(relay.listingId, relay.externalOrderId),
          relay,
          "externalOrderId",
        ),
      );
    }
    if (relay.ecommerceOrderId) {
      index.ecommerce = actions.length;
      actions.push(uniquePut(tableName, keys.relayByEcommerceOrder(relay.ecommerceOrderId), relay, "ecommerceOrderId"));
    }
    index.orderNumber = actions.length;
    actions.push(uniquePut(tableName, keys.relayOrderNumber(relay.orderNumber), relay, "orderNumber"));
    actions.push({
      Put: { TableName: tableName, Item: relayItem(relay), ConditionExpression: "attribute_not_exists(pk)" },
    });
    actions.push(
      ...auditPuts(
        tableName,
        relay,
        [
          {
            kind: "STATUS_CHANGE",
            before: null,
            after: creationSummary(relay),
            reason: "created",
            publishAs: "RELAY_CREATED",
          },
        ],
        who,
        relay.createdAt,
      ),
    );

    try {
      await transactWrite(actions);
      return { relay, created: true };
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      for (const at of [index.external, index.ecommerce]) {
        if (at >= 0 && error.failed(at))
          return { relay: await existing(error.actions[at]?.item, actions[at]!), created: false };
      }
      if (index.orderCheck >= 0 && error.failed(index.orderCheck))
        throw new DomainError("ECOMMERCE_ORDER_NOT_FOUND", `ecommerce order ${relay.ecommerceOrderId} does not exist`, {
          ecommerceOrderId: relay.ecommerceOrderId,
        });
      // The order number collided: build anew.
    }
  }
  throw new ConcurrencyError("the relay could not be created; retry the request");
}

/** The relay a uniqueness item points at (from the cancelled put's old item, else read). */
async function existing(oldItem: Record<string, unknown> | undefined, action: TransactItem): Promise<Relay> {
  let relayId = typeof oldItem?.relayId === "string" ? oldItem.relayId : undefined;
  if (!relayId) {
    const unique = await getItem({ pk: String(action.Put?.Item?.pk), sk: String(action.Put?.Item?.sk) });
    relayId = unique?.relayId as string | undefined;
  }
  const item = relayId ? await readRelayItem(relayId) : undefined;
  if (!item) throw new ConcurrencyError("the existing relay for this order could not be read; retry the request");
  return relayFromItem(item);
}
