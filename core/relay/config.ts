/**
 * Relay dispatch settings, read from the environment on each use (tests shorten the timeout) and validated:
 * a bad value fails the call loudly instead of silently using a default.
 */
function positiveNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** How long one POST to a supplier may take (default 5 s). */
export const supplierTimeoutMs = () => positiveNumber("ORDERLINE_SUPPLIER_TIMEOUT_MS", 5_000);

/** Quick retries inside one attempt after a network error, timeout, 408, 429 or 5xx (DS-4.1 §7.1: limited). */
export const QUICK_RETRIES = 2;

/** Base delay of the quick retries (full jitter: up to this before the first, up to twice it before the second). */
export const quickRetryDelayMs = () => positiveNumber("ORDERLINE_SUPPLIER_RETRY_DELAY_MS", 200, true);

/** A failed attempt whose number is above this raises `relay_attempts_exceeded_total` (alarmed in the stacks). */
export const attemptAlarmThreshold = () => positiveNumber("ORDERLINE_RELAY_ATTEMPT_THRESHOLD", 5);

/**
 * How long a claimed dispatch keeps other writers off the relay: every try of the attempt plus a margin. A
 * dispatcher that dies mid-attempt frees the relay when this runs out.
 */
export const dispatchLeaseMs = () => supplierTimeoutMs() * (QUICK_RETRIES + 1) + quickRetryDelayMs() * 4 + 10_000;

let cachedSecret: string | undefined;

/** Where the deployed functions read the secret from (SST Config in AWS); set by the function layer, never here. */
let secretSource: (() => Promise<unknown>) | undefined;

export function setSigningSecretSource(source: () => Promise<unknown>): void {
  secretSource = source;
}

const NOT_CONFIGURED = "SUPPLIER_SIGNING_SECRET is not configured (env or SST Config.Secret bound to this function)";

/**
 * The stage's master signing secret (it signs dispatch and derives every supplier's secret): `SUPPLIER_SIGNING_SECRET`
 * from the environment (the local runtime, tests), else the source the function layer registered (SST's
 * `Config.SUPPLIER_SIGNING_SECRET` in AWS: functions/secrets.ts), read once. Missing everywhere is a configuration
 * fault: it throws.
 */
export async function signingSecret(): Promise<string> {
  const fromEnv = process.env.SUPPLIER_SIGNING_SECRET;
  if (fromEnv) return fromEnv;
  if (cachedSecret) return cachedSecret;
  let value: unknown;
  try {
    value = await secretSource?.();
  } catch (error) {
    throw new Error(NOT_CONFIGURED, { cause: error });
  }
  if (typeof value !== "string" || value === "") throw new Error(NOT_CONFIGURED);
  cachedSecret = value;
  return value;
}
