import { createHash } from "node:crypto";
import * as z from "zod";
import { DomainError, NotFoundError } from "../errors.js";
import { backoffDelay, sleep } from "../retry.js";
import { type Actor, Cursor, Id } from "../schema.js";
import { db } from "../store/client.js";
import { keys } from "../store/table.js";
import { TransactionCancelled, transactWrite } from "../store/transact.js";
import { ConditionFailed, updateItem } from "../store/write.js";
import { validate } from "../validate.js";
import { type AuditEntry, auditPuts } from "./audit.js";
import { dispatchInFlight, guardedWrite, moved, readStored, statusAudit } from "./change.js";
import {
  attemptAlarmThreshold,
  dispatchLeaseMs,
  QUICK_RETRIES,
  quickRetryDelayMs,
  signingSecret,
  supplierTimeoutMs,
} from "./config.js";
import { redactCardNumbers } from "./forbidden.js";
import type { LastError, Relay } from "./model.js";
import { get, queuePage } from "./query.js";
import { findListing, findSupplier } from "./reference.js";
import { secretsOf, signedHeaders } from "./secrets.js";
import { SIGNATURE_HEADER, sign } from "./signing.js";

/** What started a dispatch: the RELAY_CREATED event, `POST .../dispatch`, or an admin retry. */
export type DispatchTrigger = "auto" | "on_demand" | "retry";

export interface DispatchOptions {
  trigger: DispatchTrigger;
  /** Why: recorded on the EXTERNAL_CALL audit entry (an admin retry must give one). */
  reason?: string;
}

export type DispatchOutcome = "relayed" | "refused" | "failed" | "skipped";

export interface DispatchResult {
  outcome: DispatchOutcome;
  relay: Relay;
  /** The attempt number this dispatch used (null when skipped). */
  attempt: number | null;
  /** Why nothing was sent: the relay is no longer pending, or another dispatch holds it right now. */
  skipped?: "not_pending" | "in_flight";
  /** The failure recorded as `metadata.lastError.message`, or the supplier's refusal reason. */
  message?: string;
  /** A failed attempt above the alarm threshold: raise `relay_attempts_exceeded_total`. */
  attemptsExceeded: boolean;
  /** HTTP tries of this attempt (1 + quick retries). */
  tries: number;
  latencyMs: number | null;
}

/** The body POSTed to the supplier (contract "Dispatch"). */
export interface SupplierPayload {
  relayId: string;
  orderNumber: string;
  listingId: string;
  supplierOfferId: string;
  quantity: number;
  customerInfo: Record<string, unknown>;
  shippingInfo: Record<string, unknown>;
}

interface TryRecord {
  status?: number;
  error?: string;
  latencyMs: number;
}

type SendResult =
  | { kind: "accepted"; status: number }
  | { kind: "refused"; status: number; reason: string }
  | { kind: "failed"; message: string; status?: number };

const MAX_REASON = 500;

async function readReason(response: Response): Promise<string | undefined> {
  try {
    const text = (await response.text()).slice(0, 16 * 1024);
    const parsed = JSON.parse(text) as unknown;
    const reason = parsed && typeof parsed === "object" ? (parsed as { reason?: unknown }).reason : undefined;
    if (typeof reason === "string" && reason.trim() !== "")
      return redactCardNumbers(reason.trim()).slice(0, MAX_REASON);
  } catch {
    // no JSON reason
  }
  return undefined;
}

/** A network error, timeout, 408, 429 or 5xx: worth a quick retry; anything else is the supplier's answer. */
const transientStatus = (status: number) => status === 408 || status === 429 || status >= 500;

async function tryOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ result: SendResult; transient: boolean; record: TryRecord }> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const latencyMs = Date.now() - started;
    const status = response.status;
    if (status >= 200 && status < 300) {
      await response.body?.cancel().catch(() => undefined);
      return { result: { kind: "accepted", status }, transient: false, record: { status, latencyMs } };
    }
    if (transientStatus(status)) {
      await response.body?.cancel().catch(() => undefined);
      return {
        result: { kind: "failed", status, message: `supplier answered ${status}` },
        transient: true,
        record: { status, latencyMs },
      };
    }
    const reason = status >= 400 ? await readReason(response) : undefined;
    if (reason !== undefined)
      return { result: { kind: "refused", status, reason }, transient: false, record: { status, latencyMs } };
    return {
      result: { kind: "failed", status, message: `supplier answered ${status} without a refusal reason` },
      transient: false,
      record: { status, latencyMs },
    };
  } catch (error) {
    const latencyMs = Date.now() - started;
    const name = error instanceof Error ? error.name : "";
    const message =
      name === "TimeoutError" || name === "AbortError"
        ? `supplier did not answer within ${timeoutMs} ms (outcome unknown)`
        : `network error: ${networkCause(error)}`;
    return { result: { kind: "failed", message }, transient: true, record: { error: message, latencyMs } };
  }
}

function networkCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message.slice(0, 200);
  return error instanceof Error ? error.message.slice(0, 200) : "unknown";
}

/**
 * One dispatch attempt on the wire: POST the exact signed body, with `Idempotency-Key: <relayId>` on every try
 * (a timeout is an unknown outcome; the supplier deduplicates), and retry quickly at most QUICK_RETRIES times
 * after a network error, timeout, 408, 429 or 5xx (DS-4.1 §7.1 allows limited automatic retry for these only).
 */
async function post(
  url: string,
  payload: SupplierPayload,
  secret: string,
  supplierKey: Buffer | undefined,
): Promise<{ result: SendResult; tries: TryRecord[]; request: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  // Standard Webhooks headers with the supplier's own secret (id, timestamp, signature: a captured request cannot be
  // replayed later); the legacy whole-stage signature stays for suppliers that have not been issued a secret yet.
  const headers = {
    "content-type": "application/json",
    "idempotency-key": payload.relayId,
    [SIGNATURE_HEADER.toLowerCase()]: sign(body, secret),
    ...(supplierKey ? signedHeaders(supplierKey, `relay_${payload.relayId}`, body) : {}),
  };
  const timeoutMs = supplierTimeoutMs();
  const tries: TryRecord[] = [];
  let result: SendResult = { kind: "failed", message: "not sent" };
  for (let i = 0; i <= QUICK_RETRIES; i++) {
    if (i > 0) await sleep(backoffDelay(i - 1, quickRetryDelayMs()));
    const attempt = await tryOnce(url, body, headers, timeoutMs);
    tries.push(attempt.record);
    result = attempt.result;
    if (!attempt.transient) break;
  }
  const target = new URL(url);
  return {
    result,
    tries,
    request: {
      method: "POST",
      url: `${target.origin}${target.pathname}`,
      idempotencyKey: payload.relayId,
      bodySha256: createHash("sha256").update(body).digest("hex"),
      bodyBytes: Buffer.byteLength(body),
      supplierOfferId: payload.supplierOfferId,
      quantity: payload.quantity,
    },
  };
}

const defaultReason: Record<DispatchTrigger, string> = {
  auto: "RELAY_CREATED",
  on_demand: "on-demand dispatch",
  retry: "admin retry",
};

/**
 * Claims the next attempt: the attempt counter goes up and a lease keeps other writers off the relay while the
 * supplier is called, all conditional on the relay still being pending at the version that was read. Returns
 * the attempt number, or a reason to skip.
 */
async function claim(relay: Relay, now: Date): Promise<number | "changed"> {
  try {
    await updateItem({
      key: keys.relay(relay.relayId),
      update: "SET dispatchAttempts = dispatchAttempts + :one, dispatchLeaseUntil = :lease",
      condition:
        "#version = :version AND #status = :pending AND dispatchAttempts = :attempts AND (attribute_not_exists(dispatchLeaseUntil) OR dispatchLeaseUntil < :now)",
      names: { "#version": "version", "#status": "status" },
      values: {
        ":one": 1,
        ":lease": new Date(now.getTime() + dispatchLeaseMs()).toISOString(),
        ":version": relay.version,
        ":pending": "pending",
        ":attempts": relay.dispatchAttempts,
        ":now": now.toISOString(),
      },
    });
    return relay.dispatchAttempts + 1;
  } catch (error) {
    if (error instanceof ConditionFailed) return "changed";
    throw error;
  }
}

function skipped(relay: Relay, why: "not_pending" | "in_flight"): DispatchResult {
  return { outcome: "skipped", relay, attempt: null, skipped: why, attemptsExceeded: false, tries: 0, latencyMs: null };
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
  const { tableName } = db();

  let relay: Relay | undefined;
  let attempt: number | undefined;
  for (let i = 0; i < 3 && attempt === undefined; i++) {
    const stored = await readStored(id);
    relay = stored.relay;
    const now = new Date();
    if (relay.status !== "pending") return skipped(relay, "not_pending");
    if (dispatchInFlight(stored, now)) return skipped(relay, "in_flight");
    const claimed = await claim(relay, now);
    if (claimed !== "changed") attempt = claimed;
  }
  if (!relay || attempt === undefined) return skipped((await readStored(id)).relay, "in_flight");

  const started = Date.now();
  const listing = await findListing(relay.listingId);
  const supplier = listing ? await findSupplier(listing.supplierId) : undefined;
  let result: SendResult;
  let tries: TryRecord[] = [];
  let request: Record<string, unknown>;
  if (!listing || !supplier) {
    result = {
      kind: "failed",
      message: listing
        ? `supplier ${listing.supplierId} is not registered`
        : `listing ${relay.listingId} no longer exists`,
    };
    request = { sent: false, supplierId: listing?.supplierId ?? null };
  } else {
    const payload: SupplierPayload = {
      relayId: relay.relayId,
      orderNumber: relay.orderNumber,
      listingId: relay.listingId,
      supplierOfferId: listing.supplierOfferId,
      quantity: relay.quantity,
      customerInfo: relay.customerInfo,
      shippingInfo: relay.shippingInfo,
    };
    const sent = await post(supplier.endpointUrl, payload, secret, (await secretsOf(supplier.supplierId))?.signing);
    result = sent.result;
    tries = sent.tries;
    request = { ...sent.request, supplierId: supplier.supplierId };
  }
  const latencyMs = Date.now() - started;
  const now = new Date();
  const reason = options.reason ?? defaultReason[options.trigger];
  const response: Record<string, unknown> | null =
    tries.length === 0
      ? null
      : {
          status: tries.at(-1)?.status ?? null,
          tries,
          ...(result.kind === "refused" ? { reason: result.reason } : {}),
        };
  const call: AuditEntry = {
    kind: "EXTERNAL_CALL",
    before: null,
    after: null,
    reason,
    request: { ...request, trigger: options.trigger },
    response,
    success: result.kind === "accepted",
    latencyMs,
    attempt,
  };

  const claimed: Relay = { ...relay, dispatchAttempts: attempt };
  let next: Relay;
  let audits: AuditEntry[];
  if (result.kind === "accepted" || result.kind === "refused") {
    const to = result.kind === "accepted" ? "relayed" : "cancelled";
    next = moved(claimed, to, now, result.kind === "refused" ? result.reason : null);
    next.supplierId = supplier?.supplierId ?? null;
    const { lastError: _cleared, ...metadata } = claimed.metadata;
    next.metadata = metadata;
    audits = [
      call,
      statusAudit(claimed, next, {
        reason: result.kind === "refused" ? result.reason : reason,
        requestedBy: `supplier:${supplier?.supplierId ?? "unknown"}`,
        approvedBy: who.actor,
      }),
    ];
  } else {
    const lastError: LastError = { message: result.message, at: now.toISOString(), attempt };
    next = {
      ...claimed,
      version: claimed.version + 1,
      updatedAt: now.toISOString(),
      metadata: { ...claimed.metadata, lastError },
    };
    audits = [
      {
        ...call,
        before: { lastError: claimed.metadata.lastError ?? null },
        after: { lastError },
        publishAs: "RELAY_SEND_FAILED",
      },
    ];
  }

  // The attempt count in the guard proves the lease on the item is still ours.
  const items = guardedWrite(tableName, claimed, { next, fields: [], audits }, who, now, { ownLease: true });
  let final = next;
  try {
    await transactWrite(items);
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    // The relay moved on while the supplier was called (our lease ran out): keep the record of the call anyway.
    await transactWrite(
      auditPuts(
        tableName,
        relay,
        [{ ...call, reason: `${reason} (result not applied: the relay changed meanwhile)` }],
        who,
        now.toISOString(),
        `A${attempt}-`,
      ),
    );
    final = await get(id);
  }

  const failed = result.kind === "failed";
  return {
    outcome: result.kind === "accepted" ? "relayed" : result.kind === "refused" ? "refused" : "failed",
    relay: final,
    attempt,
    ...(result.kind === "failed"
      ? { message: result.message }
      : result.kind === "refused"
        ? { message: result.reason }
        : {}),
    attemptsExceeded: failed && attempt > attemptAlarmThreshold(),
    tries: tries.length,
    latencyMs,
  };
}

/** The on-demand dispatch: a failed attempt is answered 502 RELAY_SEND_FAILED; a non-pending relay is 409. */
export async function dispatchNow(
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

export interface RetryItemResult {
  relayId: string;
  outcome: DispatchOutcome | "not_found" | "error";
  status: string | null;
  attempt: number | null;
  skipped?: "not_pending" | "in_flight";
  message?: string;
  attemptsExceeded: boolean;
}

export interface RetryResult {
  results: RetryItemResult[];
  /** More relays were waiting in the retry queue than this call handled. */
  more: boolean;
  /** Pass it as `cursor` to go on after the relays this call handled; null when the queue was read to its end. */
  nextCursor: string | null;
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
  let ids: string[];
  let nextCursor: string | null = null;
  if (input.relayIds) ids = [...new Set(input.relayIds)];
  else {
    // Following the cursor, successive calls reach every relay in the queue: one that keeps failing stays behind
    // the cursor instead of in front of the others, and past the threshold it leaves for the attention list.
    const page = await queuePage("RETRY", { limit: input.limit, cursor: input.cursor });
    ids = page.items.map((r) => r.relayId);
    nextCursor = page.nextCursor;
  }
  const results: RetryItemResult[] = new Array(ids.length);
  let cursor = 0;
  const worker = async () => {
    while (cursor < ids.length) {
      const index = cursor++;
      const relayId = ids[index]!;
      try {
        const r = await dispatch(relayId, who, { trigger: "retry", reason: input.reason });
        results[index] = {
          relayId,
          outcome: r.outcome,
          status: r.relay.status,
          attempt: r.attempt,
          ...(r.skipped ? { skipped: r.skipped } : {}),
          ...(r.message !== undefined ? { message: r.message } : {}),
          attemptsExceeded: r.attemptsExceeded,
        };
      } catch (error) {
        const notFound = error instanceof NotFoundError;
        results[index] = {
          relayId,
          outcome: notFound ? "not_found" : "error",
          status: null,
          attempt: null,
          message: error instanceof DomainError ? error.message : "internal error (see logs)",
          attemptsExceeded: false,
        };
        if (!(error instanceof DomainError)) onFault(relayId, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RETRY_CONCURRENCY, ids.length) }, worker));
  return { results, more: nextCursor !== null, nextCursor };
}
