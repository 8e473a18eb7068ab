import type { Actor } from "../schema.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { Entity, keys, type RelayQueue } from "../store/table.js";
import { createPut, type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { updateIfMet } from "../store/write.js";
import { type AuditEntry, auditRecord } from "./audit.js";
import { attemptAlarmThreshold } from "./config.js";
import type { Relay } from "./model.js";
import { type RelayField, statusesAllowing } from "./status.js";

/**
 * How relays are stored: the relay item with its index keys, its audit log, its uniqueness items, the dispatch
 * lease and the supplier webhook receipts (and the few reads that go with them). The domain modules decide what
 * changes; every DynamoDB item and expression they write is built here, so a transaction's actions and conditions
 * can be read in one place.
 */

/**
 * The queue a relay waits in (gsi3): pending after a failed attempt, to `RETRY`; past the attempt threshold, to
 * `ATTENTION` (listed for a person, never retried blindly); otherwise in none (the index is sparse).
 */
function relayQueueOf(relay: Relay): RelayQueue | undefined {
  if (relay.status !== "pending" || !relay.metadata.lastError) return undefined;
  return relay.dispatchAttempts > attemptAlarmThreshold() ? "ATTENTION" : "RETRY";
}

/**
 * The relay's own item with its index keys: by listing (gsi1), by status (gsi2), in a failure queue (gsi3), each
 * spread over shards by relay id. The indexes hold keys only, so rewriting the item costs an index write only when
 * one of these keys changes.
 */
function relayItem(relay: Relay): Record<string, unknown> {
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

/**
 * Puts of the audit entries of one change, meant for the same TransactWriteItems as the change itself: an entry
 * exists if and only if its change committed. Keys sort by the relay version the change produced, so the log
 * reads oldest first; each put is conditional on its key being new. `relay` is the relay after the change;
 * `suffix` keeps an entry written outside a change (a supplier call whose result could not be applied) apart from
 * that version's own entries.
 */
function auditPuts(
  tableName: string,
  relay: Relay,
  entries: AuditEntry[],
  who: Actor,
  at: string,
  suffix = "",
): TransactItem[] {
  return entries.map((entry, index) => ({
    Put: createPut(tableName, {
      ...keys.relayAudit(relay.relayId, relay.version, `${suffix}${index}`),
      entity: Entity.RelayAudit,
      ...auditRecord(relay, entry, who, at),
    }),
  }));
}

/** Audit entries on their own, outside any change of the relay (see `suffix` of {@link auditPuts}). */
export async function writeAudits(
  relay: Relay,
  entries: AuditEntry[],
  who: Actor,
  at: string,
  suffix: string,
): Promise<void> {
  await transactWrite(auditPuts(db().tableName, relay, entries, who, at, suffix));
}

/** A check, inside a transaction, that the ecommerce order exists. */
function ecommerceOrderExists(tableName: string, ecommerceOrderId: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: keys.order(ecommerceOrderId),
      ConditionExpression: "attribute_exists(pk)",
    },
  };
}

/**
 * A uniqueness item naming the relay that holds `key`: its put fails when another relay holds it already, and
 * then returns that relay's item (ALL_OLD), so a repeat finds the relay it repeats.
 */
function uniquePut(
  tableName: string,
  key: { pk: string; sk: string },
  relayId: string,
  what: string,
  createdAt: string,
): TransactItem {
  return {
    Put: {
      ...createPut(tableName, { ...key, entity: Entity.RelayUnique, relayId, what, createdAt }),
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/**
 * The actions that tie a relay to an ecommerce order, for the transaction of the change that sets it: [0] the
 * order exists, [1] no other relay is tied to it (DS-4.1 §8.2). A refusal names the failed one by that index.
 */
export function ecommerceOrderLink(ecommerceOrderId: string, relayId: string, at: string): TransactItem[] {
  const { tableName } = db();
  return [
    ecommerceOrderExists(tableName, ecommerceOrderId),
    uniquePut(tableName, keys.relayByEcommerceOrder(ecommerceOrderId), relayId, "ecommerceOrderId", at),
  ];
}

/** A change of a relay, planned on one read of it. */
export interface RelayChange {
  next: Relay;
  /** Caller-facing fields the change touches; the write asserts a status in which all of them may change. */
  fields: RelayField[];
  audits: AuditEntry[];
  /** More actions of the same transaction (condition checks, uniqueness items). */
  extra?: TransactItem[];
}

/**
 * The guarded write of a planned change: the relay put is conditional on the version, status and attempt count
 * it was planned from, on no dispatch being in flight, and on a status in which every changed field may still
 * change (DS-4.1 §5.3, in the write itself). Its audit entries go in the same transaction.
 */
export function guardedWrite(
  tableName: string,
  from: Relay,
  change: RelayChange,
  who: Actor,
  now: Date,
  options: { ownLease?: boolean } = {},
): TransactItem[] {
  const values: Record<string, unknown> = {
    ":version": from.version,
    ":status": from.status,
    ":attempts": from.dispatchAttempts,
  };
  let condition = "#version = :version AND #status = :status AND dispatchAttempts = :attempts";
  // The dispatcher holding the lease writes its result; everyone else waits for the lease to end.
  if (!options.ownLease) {
    values[":now"] = now.toISOString();
    condition += " AND (attribute_not_exists(dispatchLeaseUntil) OR dispatchLeaseUntil < :now)";
  }
  if (change.fields.length > 0) {
    const allowed: string[] = [];
    for (const [i, status] of statusesAllowing(change.fields).entries()) {
      values[`:allowed${i}`] = status;
      allowed.push(`:allowed${i}`);
    }
    condition += ` AND #status IN (${allowed.join(", ")})`;
  }
  return [
    {
      Put: {
        TableName: tableName,
        Item: relayItem(change.next),
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#version": "version", "#status": "status" },
        ExpressionAttributeValues: values,
      },
    },
    ...(change.extra ?? []),
    ...auditPuts(tableName, change.next, change.audits, who, change.next.updatedAt),
  ];
}

/** Which actions refused a guarded write. */
export interface GuardRefusal {
  /** The relay's own guard failed: it is no longer what the change was planned on. */
  relayChanged: boolean;
  /** The first of the change's `extra` actions whose condition failed, or -1. */
  extraFailed: number;
  /** DynamoDB's cancellation reasons, for a refusal neither of the above explains. */
  reasons: string;
}

/** Writes {@link guardedWrite} as one transaction; undefined when it committed, else what refused it. */
export async function commitGuarded(
  from: Relay,
  change: RelayChange,
  who: Actor,
  now: Date,
  options: { ownLease?: boolean } = {},
): Promise<GuardRefusal | undefined> {
  try {
    await transactWrite(guardedWrite(db().tableName, from, change, who, now, options));
    return undefined;
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    return {
      relayChanged: error.failed(0),
      extraFailed: (change.extra ?? []).findIndex((_, i) => error.failed(i + 1)),
      reasons: error.message,
    };
  }
}

/**
 * Why a new relay was not written: a relay for the same external or ecommerce order exists (its id, when it could
 * be read), the named ecommerce order does not, or a freshly drawn key (the order number) collided.
 */
export type NewRelayRefusal =
  | { kind: "duplicate"; relayId: string | undefined }
  | { kind: "ecommerce_order_not_found"; ecommerceOrderId: string }
  | { kind: "collision" };

/** The actions of a relay's creation, and where in them stand the ones that explain a refusal. */
interface NewRelayActions {
  actions: TransactItem[];
  at: { orderCheck: number; duplicates: number[] };
}

function newRelayActions(tableName: string, relay: Relay, audits: AuditEntry[], who: Actor): NewRelayActions {
  // No ConditionCheck on the listing: it would be a transactional write on one item per listing, capping a
  // best-selling listing near 500 relays/s. The price is copied from a consistent read, exactly as if the relay
  // had been created just before any change that races it; later changes never touch it (DS-4.1 §5.3).
  const actions: TransactItem[] = [];
  /** Appends an action and returns where it stands. */
  const add = (action: TransactItem) => actions.push(action) - 1;
  const unique = (key: { pk: string; sk: string }, what: string) =>
    add(uniquePut(tableName, key, relay.relayId, what, relay.createdAt));
  const at: NewRelayActions["at"] = { orderCheck: -1, duplicates: [] };
  if (relay.ecommerceOrderId) at.orderCheck = add(ecommerceOrderExists(tableName, relay.ecommerceOrderId));
  if (relay.externalOrderId)
    at.duplicates.push(unique(keys.relayByExternalOrder(relay.listingId, relay.externalOrderId), "externalOrderId"));
  if (relay.ecommerceOrderId)
    at.duplicates.push(unique(keys.relayByEcommerceOrder(relay.ecommerceOrderId), "ecommerceOrderId"));
  unique(keys.relayOrderNumber(relay.orderNumber), "orderNumber");
  add({ Put: createPut(tableName, relayItem(relay)) });
  actions.push(...auditPuts(tableName, relay, audits, who, relay.createdAt));
  return { actions, at };
}

/**
 * Writes a new relay, all or nothing, in one TransactWriteItems: a condition check that its ecommerce order
 * exists, uniqueness items for `(listingId, externalOrderId)`, for `ecommerceOrderId` and for the order number,
 * the relay, and its audit entries. Undefined when it committed, else why not.
 */
export async function writeNewRelay(
  relay: Relay,
  audits: AuditEntry[],
  who: Actor,
): Promise<NewRelayRefusal | undefined> {
  const { actions, at } = newRelayActions(db().tableName, relay, audits, who);
  try {
    await transactWrite(actions);
    return undefined;
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    const duplicate = at.duplicates.find((index) => error.failed(index));
    if (duplicate !== undefined)
      return { kind: "duplicate", relayId: await uniqueOwner(error.actions[duplicate]?.item, actions[duplicate]!) };
    if (relay.ecommerceOrderId && error.failed(at.orderCheck))
      return { kind: "ecommerce_order_not_found", ecommerceOrderId: relay.ecommerceOrderId };
    return { kind: "collision" };
  }
}

/** The relay a uniqueness item names (from the cancelled put's old item, else read). */
async function uniqueOwner(
  oldItem: Record<string, unknown> | undefined,
  action: TransactItem,
): Promise<string | undefined> {
  const relayId = typeof oldItem?.relayId === "string" ? oldItem.relayId : undefined;
  if (relayId) return relayId;
  const unique = await getItem({ pk: String(action.Put?.Item?.pk), sk: String(action.Put?.Item?.sk) });
  return unique?.relayId as string | undefined;
}

/**
 * Claims the next dispatch attempt: the attempt counter goes up and a lease until `leaseUntil` keeps other writers
 * off the relay while the supplier is called, all conditional on the relay still being pending at the version and
 * attempt count that were read, with no other lease running. False when that no longer holds.
 */
export async function claimDispatch(relay: Relay, now: Date, leaseUntil: string): Promise<boolean> {
  return updateIfMet({
    key: keys.relay(relay.relayId),
    update: "SET dispatchAttempts = dispatchAttempts + :one, dispatchLeaseUntil = :lease",
    condition:
      "#version = :version AND #status = :pending AND dispatchAttempts = :attempts AND (attribute_not_exists(dispatchLeaseUntil) OR dispatchLeaseUntil < :now)",
    names: { "#version": "version", "#status": "status" },
    values: {
      ":one": 1,
      ":lease": leaseUntil,
      ":version": relay.version,
      ":pending": "pending",
      ":attempts": relay.dispatchAttempts,
      ":now": now.toISOString(),
    },
  });
}

/** A supplier webhook applied to a relay, remembered by its `webhook-id` until `expiresAt` (epoch seconds, TTL). */
export interface WebhookReceipt {
  supplierId: string;
  webhookId: string;
  relayId: string;
  type: string;
  receivedAt: string;
  expiresAt: number;
}

/** The put of a webhook receipt, for the transaction that applies the webhook: it fails for a redelivery. */
export function webhookReceiptPut(receipt: WebhookReceipt): TransactItem {
  const { supplierId, webhookId, ...record } = receipt;
  return {
    Put: createPut(db().tableName, {
      ...keys.supplierWebhook(supplierId, webhookId),
      entity: Entity.SupplierWebhook,
      ...record,
    }),
  };
}

/** Whether a webhook with this `webhook-id` was applied (and is still remembered). */
export async function webhookReceived(supplierId: string, webhookId: string): Promise<boolean> {
  return (await getItem(keys.supplierWebhook(supplierId, webhookId))) !== undefined;
}
