import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Backoff,
  backoffDelay,
  deadlineAfter,
  invocationDeadline,
  replanAfterLostRace,
  runWithinDeadline,
} from "./retry.js";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Runs `loop` on fake time (Date and timers), with every full-jitter draw at half its range: waits are exact. */
async function onFakeTime<T>(loop: () => Promise<T>): Promise<T> {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(0.5);
  const running = loop();
  await vi.runAllTimersAsync();
  return running;
}

describe("the one retry policy", () => {
  it("waits full jitter: between 0 and min(cap, base * 2^(retry - 1))", () => {
    for (let retry = 1; retry <= 12; retry++) {
      const delay = backoffDelay(retry, 10, 1_000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(1_000, 10 * 2 ** (retry - 1)));
    }
    // The draw scales the whole range: not a fixed delay, not a fixed share of it.
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    expect([1, 4, 12].map((retry) => backoffDelay(retry, 10, 1_000))).toEqual([5, 40, 500]);
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(backoffDelay(4, 10, 1_000)).toBe(0);
  });

  it("allows maxTries tries in all, the first included", async () => {
    const backoff = new Backoff({ baseMs: 1, maxTries: 3 });
    expect(await backoff.wait()).toBe(true);
    expect(await backoff.wait()).toBe(true);
    expect(await backoff.wait()).toBe(false);
    expect(backoff.tries).toBe(3);
  });

  it("stops at its own budget", async () => {
    const { tries, elapsed } = await onFakeTime(async () => {
      const started = Date.now();
      const backoff = new Backoff({ baseMs: 10, budgetMs: 60 });
      while (await backoff.wait());
      return { tries: backoff.tries, elapsed: Date.now() - started };
    });
    // Waits of 5, 10 and 20 ms fit in 60; the next (40) would end at 75.
    expect(tries).toBe(4);
    expect(elapsed).toBe(35);
  });

  it("re-plans a lost race a few times, quickly", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const replans = replanAfterLostRace(4);
    const delays = [replans.nextDelay(), replans.nextDelay(), replans.nextDelay(), replans.nextDelay()];
    expect(delays[3]).toBeUndefined();
    expect(delays.slice(0, 3).every((d) => d !== undefined && d <= 100)).toBe(true);
  });

  it("gives up at once, without waiting, past the invocation's deadline", async () => {
    await runWithinDeadline(Date.now() - 1, async () => {
      const backoff = new Backoff({ baseMs: 1, maxTries: 5 });
      expect(await backoff.wait()).toBe(false);
      expect(backoff.nextDelay()).toBeUndefined();
      expect(replanAfterLostRace(4).nextDelay()).toBeUndefined();
    });
  });

  it("stops retries nested in retries at the invocation's deadline", async () => {
    // Unbounded by time, 10 outer tries of 8 inner ones each would wait about 12 s (the average full-jitter waits).
    const { deadline, tryStarts, ended } = await onFakeTime(async () => {
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
      return { deadline, tryStarts, ended: Date.now() };
    });
    // Inner tries at +0, 10, 30, 70, 150 (the next wait, 160, would end past +300); the outer waits 10, the inner
    // loop tries at +160, 170, 190, 230; the outer waits 20, the inner tries at +250, 260, 280; the outer's next
    // wait (40) would end past the deadline, so both stop.
    expect(tryStarts.map((t) => t - (deadline - 300))).toEqual([0, 10, 30, 70, 150, 160, 170, 190, 230, 250, 260, 280]);
    expect(ended).toBeLessThanOrEqual(deadline);
  });

  it("gives each invocation its own deadline, and a loop that stands for an AWS service none", async () => {
    await runWithinDeadline(Date.now() - 1, async () => {
      const later = Date.now() + 60_000;
      await runWithinDeadline(later, async () => {
        expect(invocationDeadline()).toBe(later);
        expect(deadlineAfter()).toBe(later);
        expect(await new Backoff({ baseMs: 1, maxTries: 2 }).wait()).toBe(true);
      });
      expect(await new Backoff({ baseMs: 1, maxTries: 2, withinInvocation: false }).wait()).toBe(true);
      expect(deadlineAfter(undefined, false)).toBe(Number.POSITIVE_INFINITY);
    });
    expect(invocationDeadline()).toBeUndefined();
    expect(deadlineAfter()).toBe(Number.POSITIVE_INFINITY);
  });
});
