import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The one retry policy of the service. Waits are full jitter (a random delay between 0 and
 * min(cap, base * 2^(tries - 1))), which spreads retrying callers apart instead of letting them collide again in
 * step. A caller bounds its retries by tries, by its own time budget, or both; every retry loop inside a Lambda
 * invocation is also bounded by the invocation's deadline (see {@link runWithinDeadline}), so retries nested in
 * retries can never outlast the function's timeout: the innermost loop gives up first and the outer ones with it.
 */
export interface RetryPolicy {
  /** The largest first wait (ms); each further wait may be twice as long as the one before. */
  baseMs: number;
  /** The largest single wait (ms). */
  capMs?: number;
  /** Tries in all, the first included. */
  maxTries?: number;
  /** How long this loop may keep retrying, from its first try (ms). */
  budgetMs?: number;
  /**
   * False only for a loop that stands for an AWS service rather than code in an invocation (the local bus retrying
   * a target, as EventBridge does): it must not inherit the deadline of the handler that published the event.
   */
  withinInvocation?: boolean;
}

const DEFAULT_CAP_MS = 5_000;

const invocation = new AsyncLocalStorage<number>();

/**
 * Runs `fn` as one invocation ending at `deadline` (epoch ms): no retry loop started inside it waits past it. Each
 * Lambda invocation is its own, so a handler run from within another one's context (the local bus delivering an
 * event the publisher put) gets its own deadline, not the caller's.
 */
export function runWithinDeadline<T>(deadline: number, fn: () => T): T {
  return invocation.run(deadline, fn);
}

/** The deadline (epoch ms) of the invocation this code runs in, when it runs in one. */
export function invocationDeadline(): number | undefined {
  return invocation.getStore();
}

/**
 * When a time-bounded loop must stop (epoch ms): `budgetMs` from now, or the invocation's deadline when that comes
 * first (unless the loop stands outside any invocation); Infinity when nothing bounds it.
 */
export function deadlineAfter(budgetMs?: number, withinInvocation = true): number {
  const own = budgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + budgetMs;
  const outer = withinInvocation ? invocation.getStore() : undefined;
  return Math.min(own, outer ?? Number.POSITIVE_INFINITY);
}

/** A full-jitter wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, baseMs: number, capMs = DEFAULT_CAP_MS): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(retry - 1, 20));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One retry loop's state: create it before the first try, call {@link Backoff.wait} before each retry.
 *
 * ```ts
 * const backoff = new Backoff({ baseMs: 50, budgetMs: 3_000 });
 * while (true) {
 *   try { return await attempt(); }
 *   catch (error) { if (!retryable(error) || !(await backoff.wait())) throw error; }
 * }
 * ```
 */
export class Backoff {
  private made = 1;
  private readonly deadline: number;

  constructor(private readonly policy: RetryPolicy) {
    this.deadline = deadlineAfter(policy.budgetMs, policy.withinInvocation !== false);
  }

  /** Tries made so far (the first included). */
  get tries(): number {
    return this.made;
  }

  /**
   * The wait before the next try, counting that try; undefined when the tries are spent or the wait would end past
   * the deadline (the loop's budget or the invocation's, whichever comes first). For a caller that sleeps its own
   * way (a sleep it can cancel); the others call {@link Backoff.wait}.
   */
  nextDelay(): number | undefined {
    if (this.policy.maxTries !== undefined && this.made >= this.policy.maxTries) return undefined;
    const delay = backoffDelay(this.made, this.policy.baseMs, this.policy.capMs);
    if (Date.now() + delay > this.deadline) return undefined;
    this.made++;
    return delay;
  }

  /** Waits before the next try; false, at once and without waiting, when the policy allows no more tries. */
  async wait(): Promise<boolean> {
    const delay = this.nextDelay();
    if (delay === undefined) return false;
    await sleep(delay);
    return true;
  }
}

/**
 * The retry of an optimistic write that lost a race (its version or condition guard failed): read again, plan
 * again, write again, up to `maxTries` times. The first re-read comes almost at once; later ones spread out so
 * writers contending for one item stop colliding in step.
 */
export function replanAfterLostRace(maxTries: number): Backoff {
  return new Backoff({ baseMs: 5, capMs: 100, maxTries });
}
