/**
 * The one backoff policy of the service: full jitter (a random delay between 0 and min(cap, base * 2^attempt)),
 * which spreads retrying callers apart instead of letting them collide again in step. Callers keep their own
 * budgets (attempts or a deadline); this only says how long to wait before the next try.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs = 5_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a wait of `delayMs` still ends before `deadline` (epoch ms). */
export const fitsBefore = (deadline: number, delayMs: number) => Date.now() + delayMs <= deadline;
