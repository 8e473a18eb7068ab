import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { invocationDeadline, runWithinDeadline } from "../core/retry.js";
import { importHandler, lambdaContext } from "../local/lambda.js";
import { setEnv } from "../test/support/env.js";
import { deployedHandlers } from "../test/support/handlers.js";
import { DEADLINE_MARGIN_MS, withinInvocation } from "./lambda.js";

vi.mock("../core/retry.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../core/retry.js")>();
  return { ...actual, runWithinDeadline: vi.fn(actual.runWithinDeadline) };
});

// No table: a handler that reaches for DynamoDB fails at once instead of doing work (only its wrapper matters here).
const saved = process.env.ORDERLINE_TABLE;
beforeAll(() => setEnv({ ORDERLINE_TABLE: undefined }));
afterAll(() => setEnv({ ORDERLINE_TABLE: saved }));

describe("lambdaHandler: every invocation runs within a deadline", () => {
  it("takes the deadline from the Lambda's remaining time, less the margin", async () => {
    const deadlineOf = withinInvocation(async () => invocationDeadline());
    const before = Date.now();
    const deadline = await deadlineOf({}, lambdaContext("probe", 5_000));
    expect(deadline).toBeGreaterThanOrEqual(before + 5_000 - DEADLINE_MARGIN_MS - 50);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5_000 - DEADLINE_MARGIN_MS);
    expect(DEADLINE_MARGIN_MS).toBeGreaterThan(0);
    // Called without a Lambda context (a test, a script): no deadline is made up.
    expect(await deadlineOf({}, undefined as never)).toBeUndefined();
  });

  it("is how every deployed handler is built: routes, fallback, rules, publisher, schedules, admin functions", async () => {
    const wrapped = vi.mocked(runWithinDeadline);
    for (const spec of new Set(deployedHandlers())) {
      const handler = await importHandler<(event: unknown, context: unknown) => Promise<unknown>>(spec);
      wrapped.mockClear();
      const invoked = Date.now();
      // An empty batch or an unusable event: what the handler makes of it does not matter here, only its wrapper.
      await handler({ Records: [] }, lambdaContext(spec, 20_000)).catch(() => undefined);
      expect(wrapped.mock.calls.length, spec).toBe(1);
      const deadline = wrapped.mock.calls[0]![0];
      expect(deadline, spec).toBeGreaterThanOrEqual(invoked + 20_000 - DEADLINE_MARGIN_MS - 1_000);
      expect(deadline, spec).toBeLessThanOrEqual(invoked + 20_000 - DEADLINE_MARGIN_MS);
    }
  });
});
