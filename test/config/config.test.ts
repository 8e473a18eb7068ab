import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { config } from "../../core/config.js";
import { setEnv, withEnv } from "../support/env.js";

const SETTINGS = [
  "ORDERLINE_PAYMENT_WINDOW_SECONDS",
  "ORDERLINE_PAYMENT_GRACE_SECONDS",
  "ORDERLINE_SUPPLIER_TIMEOUT_MS",
  "ORDERLINE_SUPPLIER_RETRY_DELAY_MS",
  "ORDERLINE_RELAY_ATTEMPT_THRESHOLD",
  "ORDERLINE_TRUST_ACTOR_HEADER",
  "SUPPLIER_SIGNING_SECRET",
  "ORDERLINE_EVENT_BUS",
  "EVENTBRIDGE_ENDPOINT",
  "ORDERLINE_TABLE",
  "DYNAMODB_ENDPOINT",
  "AWS_REGION",
];
const unset = Object.fromEntries(SETTINGS.map((key) => [key, undefined]));

/** Loads a deployed handler (the payment events target) in a fresh Node process that looks like a Lambda cold start. */
function coldStart(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SETTINGS.includes(key)));
  return spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", 'await import("./functions/events/payments.ts");'],
    { env: { ...clean, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand", ...env }, encoding: "utf8", timeout: 30_000 },
  );
}

describe("configuration (core/config.ts)", () => {
  it("defaults every setting when the environment has none", async () => {
    await withEnv(unset, () => {
      expect(config()).toEqual({
        paymentWindowSeconds: 1800,
        paymentGraceSeconds: 600,
        supplierTimeoutMs: 5000,
        supplierRetryDelayMs: 200,
        relayAttemptThreshold: 5,
        trustActorHeader: false,
        signingSecret: undefined,
        eventBusName: undefined,
        eventBridgeEndpoint: undefined,
        tableName: undefined,
        dynamoEndpoint: undefined,
        region: "local",
      });
    });
  });

  it("reads the environment once: a later change is seen only when the configuration is read again", async () => {
    await withEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "1234" }, () => {
      process.env.ORDERLINE_SUPPLIER_TIMEOUT_MS = "999";
      expect(config().supplierTimeoutMs).toBe(1234);
      setEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "999" });
      expect(config().supplierTimeoutMs).toBe(999);
    });
  });

  it("refuses a value outside its range with a message naming the variable", () => {
    for (const [key, value, message] of [
      ["ORDERLINE_PAYMENT_WINDOW_SECONDS", "0", "ORDERLINE_PAYMENT_WINDOW_SECONDS must be a positive number, got 0"],
      ["ORDERLINE_PAYMENT_GRACE_SECONDS", "-1", "ORDERLINE_PAYMENT_GRACE_SECONDS must be a number >= 0, got -1"],
      ["ORDERLINE_RELAY_ATTEMPT_THRESHOLD", "lots", "ORDERLINE_RELAY_ATTEMPT_THRESHOLD must be a number"],
      ["ORDERLINE_TRUST_ACTOR_HEADER", "maybe", "ORDERLINE_TRUST_ACTOR_HEADER must be a boolean"],
    ] as const) {
      const saved = process.env[key];
      try {
        expect(() => setEnv({ [key]: value }), key).toThrow(message);
      } finally {
        setEnv({ [key]: saved });
      }
    }
  });

  it("stops a Lambda cold start on a bad setting, before any request, and starts with good ones", () => {
    const bad = coldStart({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "-5" });
    expect(bad.status, bad.stderr).not.toBe(0);
    expect(bad.stderr).toContain("ORDERLINE_PAYMENT_WINDOW_SECONDS must be a positive number, got -5");
    const good = coldStart({ ORDERLINE_PAYMENT_WINDOW_SECONDS: "900" });
    expect(good.status, good.stderr).toBe(0);
  });
});
