import { randomUUID } from "node:crypto";
import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ConcurrencyError } from "../errors.js";
import { backoffDelay, fitsBefore, sleep } from "../retry.js";
import { db } from "./client.js";
import { capacityExceeded, isThrottledTransaction } from "./throttle.js";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** Why each action of a cancelled transaction failed, index-aligned with the actions sent. */
export interface CancelledAction {
  code: string | undefined;
  /** The item as it was, when the action asked for ALL_OLD on condition failure. */
  item: Record<string, unknown> | undefined;
}

export class TransactionCancelled extends Error {
  constructor(readonly actions: CancelledAction[]) {
    super(`transaction cancelled: ${actions.map((a) => a.code ?? "None").join(",")}`);
  }
  failed(index: number): boolean {
    return this.actions[index]?.code === "ConditionalCheckFailed";
  }
}

const MAX_ATTEMPTS = 8;
const BASE_DELAY_MS = 10;
/** How long throttled transactions are retried before the caller gets CAPACITY_EXCEEDED (well inside a 10 s Lambda). */
const THROTTLE_BUDGET_MS = 3_000;
const THROTTLE_BASE_DELAY_MS = 50;

function isConflict(error: unknown, reasons: CancellationReason[] | undefined): boolean {
  if (error instanceof Error && error.name === "TransactionConflictException") return true;
  return (reasons ?? []).some((r) => r.Code === "TransactionConflict");
}

/**
 * One TransactWriteItems. A conflict with another in-flight transaction is retried with full-jitter exponential
 * backoff; so is throttling (a transaction cancelled for `ThrottlingError`), for at most THROTTLE_BUDGET_MS (or the
 * caller's `throttleBudgetMs`), after which it is CAPACITY_EXCEEDED (nothing was written: a cancelled transaction writes nothing). A condition failure
 * surfaces as `TransactionCancelled` so the caller can explain it.
 */
export async function transactWrite(items: TransactItem[], options: { throttleBudgetMs?: number } = {}): Promise<void> {
  const { doc } = db();
  const throttleDeadline = Date.now() + (options.throttleBudgetMs ?? THROTTLE_BUDGET_MS);
  let conflicts = 0;
  for (let throttles = 0; ; ) {
    try {
      // The token makes the SDK's own retry of a call whose response was lost idempotent (10 minutes), instead
      // of re-running it into our own conditions (a checkout would then look like a replay).
      await doc.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
      return;
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
      if (isConflict(error, reasons)) {
        if (++conflicts >= MAX_ATTEMPTS) throw new ConcurrencyError("too many concurrent writers; retry the request");
        await sleep(backoffDelay(conflicts, BASE_DELAY_MS));
        continue;
      }
      if (isThrottledTransaction(reasons)) {
        const delay = backoffDelay(++throttles, THROTTLE_BASE_DELAY_MS);
        if (!fitsBefore(throttleDeadline, delay)) throw capacityExceeded(error);
        await sleep(delay);
        continue;
      }
      if (error instanceof TransactionCanceledException) {
        throw new TransactionCancelled(
          (reasons ?? []).map((r) => ({ code: r.Code, item: r.Item ? unmarshall(r.Item) : undefined })),
        );
      }
      throw error;
    }
  }
}
