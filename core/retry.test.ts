import { describe, expect, it } from "vitest";
import { Backoff, backoffDelay, invocationDeadline, runWithinDeadline } from "./retry.js";

describe("the one retry policy", () => {
  it("waits full jitter: between 0 and min(cap, base * 2^(retry - 1))", () => {
    for (let retry = 1; retry <= 12; retry++) {
      const delay = backoffDelay(retry, 10, 1_000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(1_000, 10 * 2 ** (retry - 1)));
    }
  });

  it("allows maxTries tries in all, the first included", async () => {
    const backoff = new Backoff({ baseMs: 1, maxTries: 3 });
    expect(await backoff.wait()).toBe(true);
    expect(await backoff.wait()).toBe(true);
    expect(await backoff.wait()).toBe(false);
    expect(backoff.tries).toBe(3);
  });

  it("stops at its own budget", async () => {
    const backoff = new Backoff({ baseMs: 10, budgetMs: 60 });
    const started = Date.now();
    while (await backoff.wait());
    expect(backoff.tries).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThanOrEqual(60 + 25);
  });

  it("gives up at once, without waiting, past the invocation's deadline", async () => {
    await runWithinDeadline(Date.now() - 1, async () => {
      const backoff = new Backoff({ baseMs: 1, maxTries: 5 });
      expect(await backoff.wait()).toBe(false);
      expect(backoff.nextDelay()).toBeUndefined();
    });
  });

  it("stops retries nested in retries at the invocation's deadline", async () => {
    // Unbounded by time, 10 outer tries of 8 inner ones each would wait about 12 s (the average full-jitter waits).
    const deadline = Date.now() + 300;
    const tryStarts: number[] = [];
    await runWithinDeadline(deadline, async () => {
      const outer = new Backoff({ baseMs: 20, maxTries: 10 });
      do {
        const inner = new Backoff({ baseMs: 20, maxTries: 8 });
        do tryStarts.push(Date.now());
        while (await inner.wait());
      } while (await outer.wait());
    });
    expect(tryStarts.length).toBeGreaterThan(1);
    // A wait that would end past the deadline is never started (timers may fire a few ms late).
    for (const start of tryStarts) expect(start).toBeLessThanOrEqual(deadline + 25);
  });

  it("gives each invocation its own deadline, and a loop that stands for an AWS service none", async () => {
    await runWithinDeadline(Date.now() - 1, async () => {
      const later = Date.now() + 60_000;
      await runWithinDeadline(later, async () => {
        expect(invocationDeadline()).toBe(later);
        expect(await new Backoff({ baseMs: 1, maxTries: 2 }).wait()).toBe(true);
      });
      expect(await new Backoff({ baseMs: 1, maxTries: 2, withinInvocation: false }).wait()).toBe(true);
    });
    expect(invocationDeadline()).toBeUndefined();
  });
});
