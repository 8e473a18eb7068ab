import * as z from "zod";
import { DomainError, NotFoundError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import { type Actor, Cursor, Id } from "../schema.js";
import { inParallel } from "../store/lease.js";
import { validate } from "../validate.js";
import type { AuditEntry } from "./audit.js";
import { dispatchInFlight, moved, nextVersion, readStored, statusAudit } from "./change.js";
import { attemptAlarmThreshold, dispatchLeaseMs, signingSecret } from "./config.js";
import type { LastError, Relay } from "./model.js";
import { get, queuePage } from "./query.js";
import { findListing, findSupplierRecord, type Listing } from "./reference.js";
import { secretsOfItem } from "./secrets.js";
import { claimDispatch, commitGuarded, writeAudits } from "./store.js";
import { postToSupplier, type SendResult, type SupplierPayload, type TryRecord } from "./supplier-call.js";

/** What started a dispatch: the RELAY_CREATED event, `POST .../dispatch`, or an admin retry. */
export type DispatchTrigger = "auto" | "on_demand" | "retry";

export interface DispatchOptions {
  trigger: DispatchTrigger;
  /** Why: recorded on the EXTERNAL_CALL audit entry (an admin retry must give one). */
  reason?: string;
}

export type DispatchOutcome = "relayed" | "refused" | "failed" | "skipped";

/** Why nothing was sent: the relay is no longer pending, or another dispatch holds it right now. */
export type SkipReason = "not_pending" | "in_flight";

export interface DispatchResult {
  outcome: DispatchOutcome;
  relay: Relay;
  /** The attempt number this dispatch used (null when skipped). */
  attempt: number | null;
  skipped?: SkipReason;
  /** The failure recorded as `metadata.lastError.message`, or the supplier's refusal reason. */
  message?: string;
  /** A failed attempt above the alarm threshold: raise `relay_attempts_exceeded_total`. */
  attemptsExceeded: boolean;
  /** HTTP tries of this attempt (1 + quick retries). */
  tries: number;
  latencyMs: number | null;
}

const defaultReason: Record<DispatchTrigger, string> = {
  auto: "RELAY_CREATED",
  on_demand: "on-demand dispatch",
  retry: "admin retry",
};

function skipped(relay: Relay, why: SkipReason): DispatchResult {
  return { outcome: "skipped", relay, attempt: null, skipped: why, attemptsExceeded: false, tries: 0, latencyMs: null };
}

/** A claimed attempt: the relay as read before the claim, the attempt number, who dispatches it and why. */
interface Attempt {
  relay: Relay;
  number: number;
  who: Actor;
  trigger: DispatchTrigger;
  reason: string;
}

/** Claims of one dispatch before it gives way to the writers that keep changing the relay. */
const MAX_CLAIMS = 3;

/**
 * Claims the next attempt (see `claimDispatch`): the attempt counter goes up and a lease keeps other writers off the
 * relay while the supplier is called. A relay that is not pending, or that another dispatch holds, is skipped; so
 * is one that keeps changing under three claims.
 */
async function claimAttempt(relayId: string): Promise<{ relay: Relay; number: number } | { skip: DispatchResult }> {
  const replans = replanAfterLostRace(MAX_CLAIMS);
  let last: Relay;
  do {
    const stored = await readStored(relayId);
    const now = new Date();
    last = stored.relay;
    if (stored.relay.status !== "pending") return { skip: skipped(stored.relay, "not_pending") };
    if (dispatchInFlight(stored, now)) return { skip: skipped(stored.relay, "in_flight") };
    const leaseUntil = new Date(now.getTime() + dispatchLeaseMs()).toISOString();
    if (await claimDispatch(stored.relay, now, leaseUntil))
      return { relay: stored.relay, number: stored.relay.dispatchAttempts + 1 };
  } while (await replans.wait());
  // Still pending and free when last read, yet every claim lost: another writer is busy with it right now.
  return { skip: skipped(last, "in_flight") };
}

/** What one attempt sent the supplier and what it answered (or why nothing was sent). */
interface SupplierCall {
  result: SendResult;
  tries: TryRecord[];
  request: Record<string, unknown>;
  /** The supplier called; undefined when the listing or its supplier is gone. */
  supplierId: string | undefined;
  latencyMs: number;
}

function supplierPayload(relay: Relay, listing: Listing): SupplierPayload {
  return {
    relayId: relay.relayId,
    orderNumber: relay.orderNumber,
    listingId: relay.listingId,
    supplierOfferId: listing.supplierOfferId,
    quantity: relay.quantity,
    customerInfo: relay.customerInfo,
    shippingInfo: relay.shippingInfo,
  };
}

/** Sends the relay to the supplier of its listing; a listing or supplier that is gone is a failed attempt. */
async function callSupplier(relay: Relay, secret: string): Promise<SupplierCall> {
  const started = Date.now();
  const listing = await findListing(relay.listingId);
  const found = listing ? await findSupplierRecord(listing.supplierId) : undefined;
  if (!listing || !found) {
    const message = listing
      ? `supplier ${listing.supplierId} is not registered`
      : `listing ${relay.listingId} no longer exists`;
    return {
      result: { kind: "failed", message },
      tries: [],
      request: { sent: false, supplierId: listing?.supplierId ?? null },
      supplierId: undefined,
      latencyMs: Date.now() - started,
    };
  }
  const { supplier, item } = found;
  const signing = (await secretsOfItem(supplier.supplierId, item)).signing;
  const sent = await postToSupplier(supplier.endpointUrl, supplierPayload(relay, listing), secret, signing);
  return {
    ...sent,
    request: { ...sent.request, supplierId: supplier.supplierId },
    supplierId: supplier.supplierId,
    latencyMs: Date.now() - started,
  };
}

/** The EXTERNAL_CALL audit entry of an attempt. */
function externalCall(attempt: Attempt, call: SupplierCall): AuditEntry {
  const { result, tries } = call;
  const response: Record<string, unknown> | null =
    tries.length === 0
      ? null
      : {
          status: tries.at(-1)?.status ?? null,
          tries,
          ...(result.kind === "refused" ? { reason: result.reason } : {}),
        };
  return {
    kind: "EXTERNAL_CALL",
    before: null,
    after: null,
    reason: attempt.reason,
    request: { ...call.request, trigger: attempt.trigger },
    response,
    success: result.kind === "accepted",
    latencyMs: call.latencyMs,
    attempt: attempt.number,
  };
}

/** The relay after the supplier's answer, and the audit entries that record it. */
interface Answer {
  next: Relay;
  audits: AuditEntry[];
}

/** The supplier took the relay (`relayed`) or refused it with a reason (`cancelled` with that reason). */
function decided(claimed: Relay, attempt: Attempt, call: SupplierCall, record: AuditEntry, now: Date): Answer {
  const refusal = call.result.kind === "refused" ? call.result.reason : null;
  const next = moved(claimed, refusal === null ? "relayed" : "cancelled", now, refusal);
  next.supplierId = call.supplierId ?? null;
  const { lastError: _cleared, ...metadata } = claimed.metadata;
  next.metadata = metadata;
  const status = statusAudit(claimed, next, {
    reason: refusal ?? attempt.reason,
    requestedBy: `supplier:${call.supplierId ?? "unknown"}`,
    approvedBy: attempt.who.actor,
  });
  return { next, audits: [record, status] };
}

/** No answer to act on: the relay stays pending with `metadata.lastError`, published as RELAY_SEND_FAILED. */
function undecided(claimed: Relay, attempt: Attempt, message: string, record: AuditEntry, now: Date): Answer {
  const lastError: LastError = { message, at: now.toISOString(), attempt: attempt.number };
  const next = { ...nextVersion(claimed, now), metadata: { ...claimed.metadata, lastError } };
  const failed: AuditEntry = {
    ...record,
    before: { lastError: claimed.metadata.lastError ?? null },
    after: { lastError },
    publishAs: "RELAY_SEND_FAILED",
  };
  return { next, audits: [failed] };
}

/**
 * Records the supplier's answer with its audit entries in one transaction, guarded by the attempt count, and returns
 * the relay as it now is. When the relay moved on while the supplier was called (the lease ran out), the answer is
 * not applied but the record of the call is kept.
 */
async function recordAnswer(attempt: Attempt, call: SupplierCall, now: Date): Promise<Relay> {
  const claimed: Relay = { ...attempt.relay, dispatchAttempts: attempt.number };
  const record = externalCall(attempt, call);
  const { next, audits } =
    call.result.kind === "failed"
      ? undecided(claimed, attempt, call.result.message, record, now)
      : decided(claimed, attempt, call, record, now);
  // The attempt count in the guard proves the lease on the item is still ours.
  const refusal = await commitGuarded(claimed, { next, fields: [], audits }, attempt.who, now, { ownLease: true });
  if (!refusal) return next;
  const unapplied = { ...record, reason: `${attempt.reason} (result not applied: the relay changed meanwhile)` };
  await writeAudits(attempt.relay, [unapplied], attempt.who, now.toISOString(), `A${attempt.number}-`);
  return get(attempt.relay.relayId);
}

function dispatchResult(attempt: Attempt, call: SupplierCall, relay: Relay): DispatchResult {
  const { result } = call;
  return {
    outcome: result.kind === "accepted" ? "relayed" : result.kind === "refused" ? "refused" : "failed",
    relay,
    attempt: attempt.number,
    ...(result.kind === "failed"
      ? { message: result.message }
      : result.kind === "refused"
        ? { message: result.reason }
        : {}),
    attemptsExceeded: result.kind === "failed" && attempt.number > attemptAlarmThreshold(),
    tries: call.tries.length,
    latencyMs: call.latencyMs,
  };
}

/**
 * Sends a pending relay to the supplier of its listing and records the answer, in one transaction with its audit
 * entries: 2xx moves it to `relayed` (EXTERNAL_CALL + STATUS_CHANGE); a refusal (4xx with a reason) cancels it with
 * that reason (EXTERNAL_CALL + CANCELLATION); anything else leaves it `pending` with `metadata.lastError` and a
 * failed EXTERNAL_CALL (published as RELAY_SEND_FAILED). Nothing is retried later on its own (DS-4.1 §7.1). A relay
 * that is not pending, or that another dispatch holds, is skipped. Only infrastructure faults throw.
 */
export async function dispatch(relayId: string, who: Actor, options: DispatchOptions): Promise<DispatchResult> {
  const id = validate(Id, relayId);
  const secret = await signingSecret();
  const claim = await claimAttempt(id);
  if ("skip" in claim) return claim.skip;
  const reason = options.reason ?? defaultReason[options.trigger];
  const attempt: Attempt = { ...claim, who, trigger: options.trigger, reason };
  const call = await callSupplier(attempt.relay, secret);
  const relay = await recordAnswer(attempt, call, new Date());
  return dispatchResult(attempt, call, relay);
}

/**
 * The on-demand dispatch (`POST .../dispatch`), answered as HTTP wants it: a failed attempt is 502
 * RELAY_SEND_FAILED, a non-pending relay 409 INVALID_TRANSITION, one being dispatched 409 CONCURRENT_MODIFICATION.
 * `observe` sees every result first, thrown or not.
 */
export async function dispatchOnDemand(
  relayId: string,
  who: Actor,
  observe: (result: DispatchResult) => void = () => undefined,
): Promise<DispatchResult> {
  const result = await dispatch(relayId, who, { trigger: "on_demand" });
  observe(result);
  if (result.skipped === "not_pending")
    throw new DomainError(
      "INVALID_TRANSITION",
      `only a pending relay can be dispatched; this one is ${result.relay.status}`,
      {
        currentStatus: result.relay.status,
        event: "DISPATCH",
      },
    );
  if (result.skipped === "in_flight")
    throw new DomainError("CONCURRENT_MODIFICATION", "this relay is being sent to its supplier right now");
  if (result.outcome === "failed")
    // The problem names the relay and its failure only: the relay itself carries customerInfo (personal data).
    // The relay's status is `currentStatus` (as in INVALID_TRANSITION): `status` is the problem's HTTP status.
    throw new DomainError(
      "RELAY_SEND_FAILED",
      `the supplier did not take the relay: ${result.message}; it stays pending`,
      {
        relayId: result.relay.relayId,
        currentStatus: result.relay.status,
        dispatchAttempts: result.relay.dispatchAttempts,
        lastError: result.relay.metadata.lastError ?? null,
      },
    );
  return result;
}

/** How many relays a retry dispatches at once: one round. An HTTP retry takes at most one round (API Gateway's 29 s). */
export const RETRY_CONCURRENCY = 10;

export const RetryInput = z.strictObject({
  relayIds: z.array(Id).min(1).max(100).optional(),
  reason: z.string().min(1).max(500),
  /**
   * How many queued relays one call re-dispatches when `relayIds` is absent. The default keeps a call within one
   * round of concurrent attempts (well inside API Gateway's 30 s); `more` tells the admin to call again.
   */
  limit: z.int().min(1).max(100).default(RETRY_CONCURRENCY),
  /** Where the previous call stopped in the retry queue (its `nextCursor`). */
  cursor: Cursor,
});
export type RetryInput = z.input<typeof RetryInput>;

export interface RetryItemResult extends Pick<DispatchResult, "attempt" | "skipped" | "message" | "attemptsExceeded"> {
  relayId: string;
  outcome: DispatchOutcome | "not_found" | "error";
  status: string | null;
}

export interface RetryResult {
  results: RetryItemResult[];
  /** More relays were waiting in the retry queue than this call handled. */
  more: boolean;
  /** Pass it as `cursor` to go on after the relays this call handled; null when the queue was read to its end. */
  nextCursor: string | null;
}

/** One relay of a retry: its dispatch result, or why it could not be dispatched (reported, never thrown). */
async function retryOne(
  relayId: string,
  who: Actor,
  reason: string,
  onFault: (relayId: string, error: unknown) => void,
): Promise<RetryItemResult> {
  try {
    const r = await dispatch(relayId, who, { trigger: "retry", reason });
    return {
      relayId,
      outcome: r.outcome,
      status: r.relay.status,
      attempt: r.attempt,
      ...(r.skipped ? { skipped: r.skipped } : {}),
      ...(r.message !== undefined ? { message: r.message } : {}),
      attemptsExceeded: r.attemptsExceeded,
    };
  } catch (error) {
    const result: RetryItemResult = {
      relayId,
      outcome: error instanceof NotFoundError ? "not_found" : "error",
      status: null,
      attempt: null,
      message: error instanceof DomainError ? error.message : "internal error (see logs)",
      attemptsExceeded: false,
    };
    if (!(error instanceof DomainError)) onFault(relayId, error);
    return result;
  }
}

/** The relays a retry names, or the next page of the retry queue with where the following call goes on. */
async function retryTargets(input: z.output<typeof RetryInput>): Promise<{ ids: string[]; nextCursor: string | null }> {
  if (input.relayIds) return { ids: [...new Set(input.relayIds)], nextCursor: null };
  // Following the cursor, successive calls reach every relay in the queue: one that keeps failing stays behind
  // the cursor instead of in front of the others, and past the threshold it leaves for the attention list.
  const page = await queuePage("RETRY", { limit: input.limit, cursor: input.cursor });
  return { ids: page.items.map((r) => r.relayId), nextCursor: page.nextCursor };
}

/**
 * The admin's explicit re-dispatch (DS-4.1 §7.1 manual intervention): the named relays, or the pending relays
 * whose last attempt failed (oldest first, up to `limit`). Each goes through the same guarded dispatch, with the
 * admin as actor and their reason and the attempt number on the audit entry; one relay's result never hides
 * another's. Errors reading a relay are reported per relay.
 */
export async function retry(
  rawInput: unknown,
  who: Actor,
  onFault: (relayId: string, error: unknown) => void = () => undefined,
): Promise<RetryResult> {
  const input = validate(RetryInput, rawInput);
  const { ids, nextCursor } = await retryTargets(input);
  const results: RetryItemResult[] = new Array(ids.length);
  await inParallel([...ids.keys()], RETRY_CONCURRENCY, async (index) => {
    results[index] = await retryOne(ids[index]!, who, input.reason, onFault);
  });
  return { results, more: nextCursor !== null, nextCursor };
}
