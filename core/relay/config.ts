import { config } from "../config.js";

/** How long one POST to a supplier may take (default 5 s). */
export const supplierTimeoutMs = (): number => config().supplierTimeoutMs;

/** Quick retries inside one attempt after a network error, timeout, 408, 429 or 5xx (DS-4.1 §7.1: limited). */
export const QUICK_RETRIES = 2;

/** Base delay of the quick retries (full jitter: up to this before the first, up to twice it before the second). */
export const quickRetryDelayMs = (): number => config().supplierRetryDelayMs;

/** A failed attempt whose number is above this raises `relay_attempts_exceeded_total` (alarmed in the stacks). */
export const attemptAlarmThreshold = (): number => config().relayAttemptThreshold;

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
  const fromEnv = config().signingSecret;
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
