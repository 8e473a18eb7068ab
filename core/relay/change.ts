import { isDeepStrictEqual } from "node:util";
import { ConcurrencyError, DomainError, InvalidTransitionError, NotFoundError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import { type Actor, Id } from "../schema.js";
import { validate } from "../validate.js";
import type { AuditEntry } from "./audit.js";
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
} from "./status.js";
import { commitGuarded, ecommerceOrderLink, type RelayChange } from "./store.js";

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
export interface Plan extends RelayChange {
  /** Explains a cancelled transaction when one of `extra` failed (index into `extra`). */
  explainExtra?: (failedIndex: number) => Error;
}

export function ecommerceOrderNotFound(ecommerceOrderId: string): DomainError {
  return new DomainError("ECOMMERCE_ORDER_NOT_FOUND", `ecommerce order ${ecommerceOrderId} does not exist`, {
    ecommerceOrderId,
  });
}

function ecommerceOrderTaken(ecommerceOrderId: string): DomainError {
  return new DomainError(
    "ECOMMERCE_ORDER_ALREADY_RELAYED",
    `ecommerce order ${ecommerceOrderId} already backs another relay`,
    { ecommerceOrderId },
  );
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
 * Reads the relay, plans the change on it and writes it guarded; a concurrent writer makes the guard fail and
 * the change is planned again on the fresh relay, so it never applies to a stale status. `plan` throws the
 * domain error (INVALID_TRANSITION, FIELD_IMMUTABLE) or returns undefined for "nothing to change".
 */
async function change(
  relayId: string,
  planOn: (relay: Relay, now: Date) => Plan | undefined,
  who: Actor,
): Promise<ChangeResult> {
  const replans = replanAfterLostRace(MAX_ATTEMPTS);
  do {
    const stored = await readStored(relayId);
    const now = new Date();
    const plan = planOn(stored.relay, now);
    if (!plan) return { relay: stored.relay, changed: false };
    if (dispatchInFlight(stored, now))
      throw new ConcurrencyError(`relay ${relayId} is being sent to its supplier right now; retry in a few seconds`);
    const refusal = await commitGuarded(stored.relay, plan, who, now);
    if (!refusal) return changed(stored.relay, plan.next);
    if (refusal.extraFailed >= 0 && plan.explainExtra && !refusal.relayChanged)
      throw plan.explainExtra(refusal.extraFailed);
    if (refusal.relayChanged || refusal.extraFailed >= 0) continue;
    throw new ConcurrencyError(`relay ${relayId} could not be updated: ${refusal.reasons}`);
  } while (await replans.wait());
  throw new ConcurrencyError(`relay ${relayId} kept changing; retry the request`);
}

function changed(from: Relay, to: Relay): ChangeResult {
  const transition = from.status !== to.status ? `${from.status}->${to.status}` : undefined;
  return { relay: to, changed: true, ...(transition ? { statusTransition: transition } : {}) };
}

/** The relay's next version, stamped `now`: what every change starts from. */
export function nextVersion(relay: Relay, now: Date): Relay {
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

/** What merging into a relay's shippingInfo changes: the merged value, its fields, the touched keys before and after. */
interface ShippingChange {
  merged: Record<string, unknown>;
  fields: RelayField[];
  was: Record<string, unknown>;
  is: Record<string, unknown>;
}

/** Merges `info` into the relay's shippingInfo key by key; undefined when that changes nothing. */
function shippingChange(relay: Relay, info: Record<string, unknown>): ShippingChange | undefined {
  const merged = { ...relay.shippingInfo, ...info };
  const fields = shippingFields(relay.shippingInfo, merged);
  if (fields.length === 0) return undefined;
  const [was, is] = changedKeys(relay.shippingInfo, merged);
  return { merged, fields, was, is };
}

/** A patch being planned: the change so far, and the touched values before and after (its DATA_CHANGE entry). */
interface PatchDraft extends Omit<Plan, "audits"> {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** `listingId`, `unitPrice` and `totalPrice` are never patched, in any status. */
function assertNoFixedField(input: PatchRelayInput, status: RelayStatus): void {
  const fixed = (["listingId", "unitPrice", "totalPrice"] as const).filter((f) => f in input);
  if (fixed.length > 0)
    throw new FieldImmutableError(
      fixed,
      status,
      "the listing is fixed when the relay is created and prices are copied from it",
    );
}

function changeQuantity(draft: PatchDraft, relay: Relay, quantity: number): void {
  if (quantity === relay.quantity) return;
  draft.fields.push("quantity");
  draft.next.quantity = quantity;
  draft.next.totalPrice = relay.unitPrice * quantity; // checked against MAX_RELAY_TOTAL after the mutability check
  Object.assign(draft.before, { quantity: relay.quantity, totalPrice: relay.totalPrice });
  Object.assign(draft.after, { quantity: draft.next.quantity, totalPrice: draft.next.totalPrice });
}

function mergeCustomerInfo(draft: PatchDraft, relay: Relay, info: Record<string, unknown>): void {
  const merged = { ...relay.customerInfo, ...info };
  if (isDeepStrictEqual(merged, relay.customerInfo)) return;
  draft.fields.push("customerInfo");
  draft.next.customerInfo = merged;
  [draft.before.customerInfo, draft.after.customerInfo] = changedKeys(relay.customerInfo, merged);
}

function mergeShippingInfo(draft: PatchDraft, relay: Relay, info: Record<string, unknown>): void {
  const shipping = shippingChange(relay, info);
  if (!shipping) return;
  draft.fields.push(...shipping.fields);
  draft.next.shippingInfo = shipping.merged;
  draft.before.shippingInfo = shipping.was;
  draft.after.shippingInfo = shipping.is;
}

/** Sets `ecommerceOrderId` once (DS-4.1 §8.2), to an existing order that backs no other relay (checked in the write). */
function linkEcommerceOrder(draft: PatchDraft, relay: Relay, ecommerceOrderId: string, now: Date): void {
  if (ecommerceOrderId === relay.ecommerceOrderId) return;
  if (relay.ecommerceOrderId !== null)
    throw new FieldImmutableError(["ecommerceOrderId"], relay.status, "once set it never changes (DS-4.1 §8.2)");
  draft.fields.push("ecommerceOrderId");
  draft.next.ecommerceOrderId = ecommerceOrderId;
  draft.before.ecommerceOrderId = null;
  draft.after.ecommerceOrderId = ecommerceOrderId;
  draft.extra = ecommerceOrderLink(ecommerceOrderId, relay.relayId, now.toISOString());
  draft.explainExtra = (failed) =>
    failed === 0 ? ecommerceOrderNotFound(ecommerceOrderId) : ecommerceOrderTaken(ecommerceOrderId);
}

/** The patch of `relay` that `input` asks for, or undefined when every named value is already current. */
function planPatch(input: PatchRelayInput, relay: Relay, now: Date): Plan | undefined {
  assertNoFixedField(input, relay.status);
  const draft: PatchDraft = { next: nextVersion(relay, now), fields: [], before: {}, after: {} };
  if (input.quantity !== undefined) changeQuantity(draft, relay, input.quantity);
  if (input.customerInfo !== undefined) mergeCustomerInfo(draft, relay, input.customerInfo);
  if (input.shippingInfo !== undefined) mergeShippingInfo(draft, relay, input.shippingInfo);
  if (input.ecommerceOrderId !== undefined) linkEcommerceOrder(draft, relay, input.ecommerceOrderId, now);
  if (draft.fields.length === 0) return undefined;
  assertMutable(draft.fields, relay.status);
  if (draft.fields.includes("quantity")) relayTotal(relay.unitPrice, draft.next.quantity);
  const { before, after, ...plan } = draft;
  return { ...plan, audits: [{ kind: "DATA_CHANGE", before, after, reason: "patch" }] };
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
  return change(id, (relay, now) => planPatch(input, relay, now), who);
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
  const nextRelay: Relay = { ...nextVersion(relay, now), status: to };
  const stamp = enteredAt[to];
  if (stamp) (nextRelay as unknown as Record<string, unknown>)[stamp] = now.toISOString();
  if (to === "cancelled") nextRelay.cancelReason = reason;
  return nextRelay;
}

/**
 * What a caller adds to an event's transaction: audit entries before the event's own, more actions (with how to
 * explain their failure), and a check of the relay as read, before anything is planned.
 */
export interface EventAdditions extends Pick<Plan, "extra" | "explainExtra"> {
  audits?: AuditEntry[];
  check?: (relay: Relay) => void;
}

/** The move `input` asks of `relay`, with the shippingInfo sent along, or INVALID_TRANSITION. */
function planEvent(relay: Relay, now: Date, input: RelayEventInput, who: Actor, more: EventAdditions): Plan {
  more.check?.(relay);
  const command: RelayCommand = input.type;
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
  const shipping = input.shippingInfo ? shippingChange(relay, input.shippingInfo) : undefined;
  if (shipping) {
    assertMutable(shipping.fields, relay.status);
    fields.push(...shipping.fields);
    nextRelay.shippingInfo = shipping.merged;
    audits.push({
      kind: "DATA_CHANGE",
      before: { shippingInfo: shipping.was },
      after: { shippingInfo: shipping.is },
      reason: command,
    });
  }
  return {
    next: nextRelay,
    fields,
    audits: [...(more.audits ?? []), ...audits],
    extra: more.extra,
    explainExtra: more.explainExtra,
  };
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
  more: EventAdditions = {},
): Promise<ChangeResult> {
  const id = validate(Id, relayId);
  assertNoForbiddenData(rawInput);
  const input = validate(RelayEventInput, rawInput);
  return change(id, (relay, now) => planEvent(relay, now, input, who, more), who);
}
