import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv } from "@aws-lambda-powertools/commons/utils/env";

/**
 * Every setting the service reads from its environment, parsed and checked in one place, once: on first use, which in
 * AWS is the cold start (functions/powertools.ts loads it while the function initializes), so a bad value stops the
 * function before it serves a request, with a message that names the variable. Nothing else reads `process.env` for
 * these. The local runtime sets the environment and then calls {@link reloadConfig}; so do tests that change it.
 */
export interface Config {
  /** `ORDERLINE_PAYMENT_WINDOW_SECONDS` (default 30 min): how long an order may wait in PAYMENT_PENDING. */
  paymentWindowSeconds: number;
  /**
   * `ORDERLINE_PAYMENT_GRACE_SECONDS` (default 10 min): how long past its deadline an unpaid order is left before the
   * sweep cancels it. A payment event that met throttling is redelivered by EventBridge / Lambda for a few minutes;
   * the grace outlasts that, so a payment made in time is never beaten by the payment timeout.
   */
  paymentGraceSeconds: number;
  /** `ORDERLINE_SUPPLIER_TIMEOUT_MS` (default 5 s): how long one POST to a supplier may take. */
  supplierTimeoutMs: number;
  /** `ORDERLINE_SUPPLIER_RETRY_DELAY_MS` (default 200 ms): base delay of the quick retries inside one attempt. */
  supplierRetryDelayMs: number;
  /** `ORDERLINE_RELAY_ATTEMPT_THRESHOLD` (default 5): past it a failed attempt is counted and the relay needs attention. */
  relayAttemptThreshold: number;
  /** `ORDERLINE_TRUST_ACTOR_HEADER=true`: the local runtime (no IAM in front of it) takes the actor from `x-actor`. */
  trustActorHeader: boolean;
  /** `SUPPLIER_SIGNING_SECRET`, when the environment has it (local runtime, tests); in AWS it comes from SST Config. */
  signingSecret: string | undefined;
  /** `ORDERLINE_EVENT_BUS`: where the stream publisher sends events (required by the publisher only). */
  eventBusName: string | undefined;
  /** `EVENTBRIDGE_ENDPOINT`: the local runtime's PutEvents endpoint; unset in AWS. */
  eventBridgeEndpoint: string | undefined;
  /** `ORDERLINE_TABLE`: the one table (set on every function by the stacks; required by the first table access). */
  tableName: string | undefined;
  /** `DYNAMODB_ENDPOINT`: DynamoDB Local's endpoint on the local runtime and in tests; unset in AWS. */
  dynamoEndpoint: string | undefined;
  /** `AWS_REGION` (set by Lambda); the local endpoints' region when unset. */
  region: string;
}

let loaded: Config | undefined;

/** The settings, read from the environment on the first call and kept. */
export function config(): Config {
  loaded ??= readConfig();
  return loaded;
}

/** Reads the environment again (the local runtime after setting it; tests that change it). */
export function reloadConfig(): Config {
  loaded = readConfig();
  return loaded;
}

function readConfig(): Config {
  return {
    paymentWindowSeconds: numberFromEnv("ORDERLINE_PAYMENT_WINDOW_SECONDS", 30 * 60, { zeroAllowed: false }),
    paymentGraceSeconds: numberFromEnv("ORDERLINE_PAYMENT_GRACE_SECONDS", 10 * 60, { zeroAllowed: true }),
    supplierTimeoutMs: numberFromEnv("ORDERLINE_SUPPLIER_TIMEOUT_MS", 5_000, { zeroAllowed: false }),
    supplierRetryDelayMs: numberFromEnv("ORDERLINE_SUPPLIER_RETRY_DELAY_MS", 200, { zeroAllowed: true }),
    relayAttemptThreshold: numberFromEnv("ORDERLINE_RELAY_ATTEMPT_THRESHOLD", 5, { zeroAllowed: false }),
    trustActorHeader: getBooleanFromEnv({ key: "ORDERLINE_TRUST_ACTOR_HEADER", defaultValue: false }),
    signingSecret: optionalString("SUPPLIER_SIGNING_SECRET"),
    eventBusName: optionalString("ORDERLINE_EVENT_BUS"),
    eventBridgeEndpoint: optionalString("EVENTBRIDGE_ENDPOINT"),
    tableName: optionalString("ORDERLINE_TABLE"),
    dynamoEndpoint: optionalString("DYNAMODB_ENDPOINT"),
    region: optionalString("AWS_REGION") ?? "local",
  };
}

/** A finite number >= 0 (> 0 unless `zeroAllowed`); unset or empty means the default. */
function numberFromEnv(key: string, defaultValue: number, { zeroAllowed }: { zeroAllowed: boolean }): number {
  if (process.env[key]?.trim() === "") return defaultValue;
  const value = getNumberFromEnv({ key, defaultValue });
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0))
    throw new Error(`${key} must be a ${zeroAllowed ? "number >= 0" : "positive number"}, got ${process.env[key]}`);
  return value;
}

function optionalString(key: string): string | undefined {
  return getStringFromEnv({ key, defaultValue: "" }) || undefined;
}
