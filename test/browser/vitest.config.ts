import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { testEnv, timeouts } from "../../vitest.config.js";

/**
 * The browser tests (`npm run test:browser`): Chromium driven by Playwright against the local runtime. Kept out of
 * `npm test` (their files end in `.browser.ts`, not `.test.ts`) because they need a Chromium on the machine.
 */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    include: ["test/browser/**/*.browser.ts"],
    ...timeouts,
    pool: "forks",
    env: testEnv,
  },
});
