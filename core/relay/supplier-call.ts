import { createHash } from "node:crypto";
import { Backoff, deadlineAfter } from "../retry.js";
import { QUICK_RETRIES, quickRetryDelayMs, supplierTimeoutMs } from "./config.js";
import { redactCardNumbers } from "./forbidden.js";
import { signedHeaders } from "./secrets.js";
import { SIGNATURE_HEADER, sign } from "./signing.js";

/*
 * The supplier call on the wire: the one place in core/ that does outbound HTTP, as the store modules are the only
 * ones that write DynamoDB expressions (test/architecture.test.ts keeps both so). It sends and classifies the
 * answer; what the answer means for the relay is decided in dispatch.ts.
 */

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

export interface TryRecord {
  status?: number;
  error?: string;
  latencyMs: number;
}

export type SendResult =
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

/** A try waits for the supplier the configured time at most, and never past the invocation's deadline. */
function tryTimeoutMs(configured: number): number {
  return Math.max(1, Math.min(configured, deadlineAfter() - Date.now()));
}

/** A network error, timeout, 408, 429 or 5xx: worth a quick retry; anything else is the supplier's answer. */
const transientStatus = (status: number) => status === 408 || status === 429 || status >= 500;

async function postOnce(
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
export async function postToSupplier(
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
  let result: SendResult;
  const backoff = new Backoff({ baseMs: quickRetryDelayMs(), maxTries: QUICK_RETRIES + 1 });
  for (;;) {
    const tried = await postOnce(url, body, headers, tryTimeoutMs(timeoutMs));
    tries.push(tried.record);
    result = tried.result;
    if (!tried.transient || !(await backoff.wait())) break;
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
