import { defineConfig } from "vitest/config";

/** What every test process runs with (the browser tests' config reuses it): quiet Powertools, local credentials. */
export const testEnv = {
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  AWS_REGION: "local",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  // Tests move the clock past payment deadlines directly; the grace has tests of its own.
  ORDERLINE_PAYMENT_GRACE_SECONDS: "0",
};

/** How long a test and a hook may take: DynamoDB Local and the local runtime start in seconds, not milliseconds. */
export const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/fast-check.ts"],
    include: ["core/**/*.test.ts", "functions/**/*.test.ts", "local/**/*.test.ts", "test/**/*.test.ts"],
    ...timeouts,
    pool: "forks",
    env: testEnv,
  },
});
