import { isDeepStrictEqual } from "node:util";
import { ConcurrencyError, DomainError, InvalidTransitionError, NotFoundError } from "../errors.js";
import { type Actor, Id } from "../schema.js";
import { db } from "../store/client.js";
import { Entity, keys } from "../store/table.js";
import { type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { validate } from "../validate.js";
import { type AuditEntry, auditPuts } from "./audit.js";
import { relayItem } from "./create.js";
import { assertNoForbiddenData } from "./forbidden.js";
import { PatchRelayInput, type Relay, RelayEventInput, relayFromItem, relayTotal } from "./model.js";
import { readRelayItem } from "./query.js";
import {
  cancellationStatuses,
  enteredAt,
  isMutable,
  next,
  type RelayCommand,
  type RelayField,
  type RelayStatus,
  statusesAllowing,
} from "./status.js";

export class FieldImmutableError extends DomainError {
  constructor(fields: string[], status: RelayStatus, why = `it is frozen once a relay is ${status}`) {
    super("FIELD_IMMUTABLE", `${fields[0]} cannot change: ${why}`, { field: fields[0], fields, status });
  }
}

export interface ChangeResult {
  relay: Relay;
  /** False when the request changed nothing (every named value was already current). */
  changed: boolean;
  /** `from->to` when the status changed. */
  statusTransition?: string;
}

/** A change planned on one read of the relay. */
export interface Plan {
  next: Relay;
  /** Caller-facing fields the change touches; the write asserts a status in which all of them may change. */
  fields: RelayField[];
  audits: AuditEntry[];
  /** More actions of the same transaction (condition checks, uniqueness items). */
  extra?: TransactItem[];
  /** Explains a cancelled transaction when one of `extra` failed (index into `extra`). */
  explainExtra?: (failedIndex: number) => Error;
}

const MAX_ATTEMPTS = 6;

interface StoredRelay {
  relay: Relay;
  leaseUntil: string | undefined;
}

export async function readStored(relayId: string): Promise<StoredRelay> {
  const item = await readRelayItem(relayId);
  if (!item) throw new NotFoundError("relay", relayId);
  return { relay: relayFromItem(item), leaseUntil: item.dispatchLeaseUntil as string | undefined };
}

export function dispatchInFlight(stored: StoredRelay, now: Date): boolean {
  return stored.leaseUntil !== undefined && stored.leaseUntil > now.toISOString();
}

/**
 * The guarded write of a planned change: the relay put is conditional on the version, status and attempt count
 * it was planned from, on no dispatch being in flight, and on a status in which every changed field may still
 * change (DS-4.1 §5.3, in the write itself). Its audit entries go in the same transaction.
 */
export function guardedWrite(
  tableName: string,
  from: Relay,
  plan: Plan,
  who: Actor,
  now: Date,
  options: { ownLease?: boolean } = {},
): TransactItem[] {
  const allowed = statusesAllowing(plan.fields);
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
  if (plan.fields.length > 0) {
    allowed.forEach((s, i) => (values[`:allowed${i}`] = s));
    condition += ` AND #status IN (${allowed.map((_, i) => `:allowed${i}`).join(", ")})`;
  }
  return [
    {
      Put: {
        TableName: tableName,
        Item: relayItem(plan.next),
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#version": "version", "#status": "status" },
        ExpressionAttributeValues: values,
      },
    },
    ...(plan.extra ?? []),
    ...auditPuts(tableName, plan.next, plan.audits, who, plan.next.updatedAt),
  ];
}

/**
 * Reads the relay, plans the change on it and writes it guarded; a concurrent writer makes the guard fail and
 * the change is planned again on the fresh relay, so it never applies to a stale status. `plan` throws the
 * domain error (INVALID_TRANSITION, FIELD_IMMUTABLE) or returns undefined for "nothing to change".
 */
async function change(
  relayId: string,
  planOn: (relay: Relay, now: Date) => Plan | undefined,
  who: Actor,
): Promise<ChangeResult> {
  const { tableName } = db();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const stored = await readStored(relayId);
    const now = new Date();
    const plan = planOn(stored.relay, now);
    if (!plan) return { relay: stored.relay, changed: false };
    if (dispatchInFlight(stored, now))
      throw new ConcurrencyError(`relay ${relayId} is being sent to its supplier right now; retry in a few seconds`);
    const items = guardedWrite(tableName, stored.relay, plan, who, now);
    try {
      await transactWrite(items);
      const transition =
        stored.relay.status !== plan.next.status ? `${stored.relay.status}->${plan.next.status}` : undefined;
      return { relay: plan.next, changed: true, ...(transition ? { statusTransition: transition } : {}) };
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      const extraFailed = (plan.extra ?? []).findIndex((_, i) => error.failed(i + 1));
      if (extraFailed >= 0 && plan.explainExtra && !error.failed(0)) throw plan.explainExtra(extraFailed);
      if (error.failed(0) || extraFailed >= 0) continue;
      throw new ConcurrencyError(`relay ${relayId} could not be updated: ${error.message}`);
    }
  }
  throw new ConcurrencyError(`relay ${relayId} kept changing; retry the request`);
}

function base(relay: Relay, now: Date): Relay {
  return { ...relay, version: relay.version + 1, updatedAt: now.toISOString() };
}

/** Which shippingInfo fields differ, named as immutability fields (`shippingInfo.carrier`, ..., `shippingInfo`). */
function shippingFields(before: Record<string, unknown>, after: Record<string, unknown>): RelayField[] {
  const fields = new Set<RelayField>();
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (isDeepStrictEqual(before[key] ?? null, after[key] ?? null)) continue;
    if (key === "carrier") fields.add("shippingInfo.carrier");
    else if (key === "trackingNumber") fields.add("shippingInfo.trackingNumber");
    else fields.add("shippingInfo");
  }
  return [...fields];
}

/**
 * The keys of an object that a change touched, before and after: an audit entry records what changed, not two
 * whole copies, so it stays small however large the object (a key that went away is null after).
 */
function changedKeys(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): [Record<string, unknown>, Record<string, unknown>] {
  const was: Record<string, unknown> = {};
  const is: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (isDeepStrictEqual(before[key] ?? null, after[key] ?? null)) continue;
    was[key] = before[key] ?? null;
    is[key] = after[key] ?? null;
  }
  return [was, is];
}

function assertMutable(fields: readonly RelayField[], status: RelayStatus): void {
  const frozen = fields.filter((field) => !isMutable(field, status));
  if (frozen.length > 0) throw new FieldImmutableError(frozen, status);
}

/**
 * Changes `quantity`, `customerInfo`, `shippingInfo` (both merged key by key) or `ecommerceOrderId` of a relay,
 * as far as its status allows (DS-4.1 §5.3): a frozen field is refused with FIELD_IMMUTABLE naming it and nothing
 * changes. `ecommerceOrderId` may be set once (DS-4.1 §8.2), to an existing order that backs no other relay.
 * The change and its DATA_CHANGE audit entry are one transaction.
 */
export async function patch(relayId: string, rawInput: unknown, who: Actor): Promise<ChangeResult> {
  const id = validate(Id, relayId);
  assertNoForbiddenData(rawInput);
  const input = validate(PatchRelayInput, rawInput);
  const { tableName } = db();

  return change(
    id,
    (relay, now) => {
      const fixed = (["listingId", "unitPrice", "totalPrice"] as const).filter((f) => f in input);
      if (fixed.length > 0)
        throw new FieldImmutableError(
          fixed,
          relay.status,
          "the listing is fixed when the relay is created and prices are copied from it",
        );

      const nextRelay = base(relay, now);
      const fields: RelayField[] = [];
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      let extra: TransactItem[] | undefined;

      if (input.quantity !== undefined && input.quantity !== relay.quantity) {
        fields.push("quantity");
        nextRelay.quantity = input.quantity;
        nextRelay.totalPrice = relay.unitPrice * input.quantity; // checked against MAX_RELAY_TOTAL after the mutability check
        Object.assign(before, { quantity: relay.quantity, totalPrice: relay.totalPrice });
        Object.assign(after, { quantity: nextRelay.quantity, totalPrice: nextRelay.totalPrice });
      }
      if (input.customerInfo !== undefined) {
        const merged = { ...relay.customerInfo, ...input.customerInfo };
        if (!isDeepStrictEqual(merged, relay.customerInfo)) {
          fields.push("customerInfo");
          nextRelay.customerInfo = merged;
          [before.customerInfo, after.customerInfo] = changedKeys(relay.customerInfo, merged);
        }
      }
      if (input.shippingInfo !== undefined) {
        const merged = { ...relay.shippingInfo, ...input.shippingInfo };
        const changed = shippingFields(relay.shippingInfo, merged);
        if (changed.length > 0) {
          fields.push(...changed);
          nextRelay.shippingInfo = merged;
          [before.shippingInfo, after.shippingInfo] = changedKeys(relay.shippingInfo, merged);
        }
      }
      if (input.ecommerceOrderId !== undefined && input.ecommerceOrderId !== relay.ecommerceOrderId) {
        if (relay.ecommerceOrderId !== null)
          throw new FieldImmutableError(["ecommerceOrderId"], relay.status, "once set it never changes (DS-4.1 §8.2)");
        fields.push("ecommerceOrderId");
        nextRelay.ecommerceOrderId = input.ecommerceOrderId;
        before.ecommerceOrderId = null;
        after.ecommerceOrderId = input.ecommerceOrderId;
        extra = [
          {
            ConditionCheck: {
              TableName: tableName,
              Key: keys.order(input.ecommerceOrderId),
              ConditionExpression: "attribute_exists(pk)",
            },
          },
          {
            Put: {
              TableName: tableName,
              Item: {
                ...keys.relayByEcommerceOrder(input.ecommerceOrderId),
                entity: Entity.RelayUnique,
                relayId: relay.relayId,
                what: "ecommerceOrderId",
                createdAt: now.toISOString(),
              },
              ConditionExpression: "attribute_not_exists(pk)",
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            },
          },
        ];
      }
      if (fields.length === 0) return undefined;
      assertMutable(fields, relay.status);
      if (fields.includes("quantity")) relayTotal(relay.unitPrice, nextRelay.quantity);
      const ecommerceOrderId = input.ecommerceOrderId;
      return {
        next: nextRelay,
        fields,
        audits: [{ kind: "DATA_CHANGE", before, after, reason: "patch" }],
        ...(extra ? { extra } : {}),
        explainExtra: (failed) =>
          failed === 0
            ? new DomainError("ECOMMERCE_ORDER_NOT_FOUND", `ecommerce order ${ecommerceOrderId} does not exist`, {
                ecommerceOrderId,
              })
            : new DomainError(
                "ECOMMERCE_ORDER_ALREADY_RELAYED",
                `ecommerce order ${ecommerceOrderId} already backs another relay`,
                {
                  ecommerceOrderId,
                },
              ),
      };
    },
    who,
  );
}

/**
 * The audit entry of a status change: CANCELLATION (with reason, requester and approver) for cancelled and
 * refunded, else STATUS_CHANGE; both are published as RELAY_STATUS_CHANGED.
 */
export function statusAudit(
  from: Relay,
  to: Relay,
  options: { reason?: string | null; requestedBy?: string; approvedBy?: string },
): AuditEntry {
  const stamp = enteredAt[to.status];
  const after: Record<string, unknown> = { status: to.status };
  if (stamp) after[stamp] = (to as unknown as Record<string, unknown>)[stamp];
  if (to.status === "cancelled") after.cancelReason = to.cancelReason;
  const cancellation = cancellationStatuses.includes(to.status);
  return {
    kind: cancellation ? "CANCELLATION" : "STATUS_CHANGE",
    before: { status: from.status },
    after,
    reason: options.reason ?? null,
    ...(cancellation
      ? {
          requestedBy: options.requestedBy ?? options.approvedBy ?? "unknown",
          approvedBy: options.approvedBy ?? "unknown",
        }
      : {}),
    publishAs: "RELAY_STATUS_CHANGED",
  };
}

/** The relay after `command` moved it to `to` at `now`: status, its timestamp, the cancellation reason. */
export function moved(relay: Relay, to: RelayStatus, now: Date, reason: string | null): Relay {
  const nextRelay: Relay = { ...base(relay, now), status: to };
  const stamp = enteredAt[to];
  if (stamp) (nextRelay as unknown as Record<string, unknown>)[stamp] = now.toISOString();
  if (to === "cancelled") nextRelay.cancelReason = reason;
  return nextRelay;
}

/**
 * Applies a fulfilment event a supplier or channel reports (`SUPPLIER_CONFIRMED`, `SHIPPED`, `DELIVERED`,
 * `CANCELLED`, `REFUNDED`). An event the status does not allow throws INVALID_TRANSITION and writes nothing;
 * `shippingInfo` sent along (e.g. carrier and tracking number with SHIPPED) is merged under the immutability
 * rules of the status the relay is leaving. Status, data and their audit entries are one transaction.
 */
export async function applyEvent(
  relayId: string,
  rawInput: unknown,
  who: Actor,
  more: Pick<Plan, "extra" | "explainExtra"> & { audits?: AuditEntry[]; check?: (relay: Relay) => void } = {},
): Promise<ChangeResult> {
  const id = validate(Id, relayId);
  assertNoForbiddenData(rawInput);
  const input = validate(RelayEventInput, rawInput);
  const command: RelayCommand = input.type;
  return change(
    id,
    (relay, now) => {
      more.check?.(relay);
      const to = next(relay.status, command);
      if (!to)
        throw new InvalidTransitionError(`${command} is not allowed when the relay is ${relay.status}`, {
          currentStatus: relay.status,
          event: command,
        });
      const nextRelay = moved(relay, to, now, input.reason ?? null);
      const fields: RelayField[] = [];
      const audits: AuditEntry[] = [
        statusAudit(relay, nextRelay, {
          reason: input.reason ?? null,
          ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
          approvedBy: who.actor,
        }),
      ];
      if (input.shippingInfo) {
        const merged = { ...relay.shippingInfo, ...input.shippingInfo };
        const changed = shippingFields(relay.shippingInfo, merged);
        if (changed.length > 0) {
          assertMutable(changed, relay.status);
          fields.push(...changed);
          nextRelay.shippingInfo = merged;
          const [was, is] = changedKeys(relay.shippingInfo, merged);
          audits.push({
            kind: "DATA_CHANGE",
            before: { shippingInfo: was },
            after: { shippingInfo: is },
            reason: command,
          });
        }
      }
      return {
        next: nextRelay,
        fields,
        audits: [...(more.audits ?? []), ...audits],
        extra: more.extra,
        explainExtra: more.explainExtra,
      };
    },
    who,
  );
}
