import { randomUUID } from "node:crypto";
import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ConcurrencyError } from "../errors.js";
import { Backoff } from "../retry.js";
import { db } from "./client.js";
import { capacityExceeded, isThrottledTransaction } from "./throttle.js";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** A Put that only creates: it fails when an item with its key exists. */
export function createPut(tableName: string, item: Record<string, unknown>): NonNullable<TransactItem["Put"]> {
  return { TableName: tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" };
}

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

/** Conflicts with other in-flight transactions: a few quick tries. */
const CONFLICT_RETRY = { baseMs: 20, maxTries: 8 };
/** How long throttled transactions are retried before the caller gets CAPACITY_EXCEEDED (well inside a 10 s Lambda). */
const THROTTLE_BUDGET_MS = 3_000;
const THROTTLE_BASE_DELAY_MS = 100;

function isConflict(error: unknown, reasons: CancellationReason[] | undefined): boolean {
  if (error instanceof Error && error.name === "TransactionConflictException") return true;
  return (reasons ?? []).some((r) => r.Code === "TransactionConflict");
}

/**
 * One TransactWriteItems. A conflict with another in-flight transaction is retried (the service's {@link Backoff});
 * so is throttling (a transaction cancelled for `ThrottlingError`), for at most THROTTLE_BUDGET_MS (or the caller's
 * `throttleBudgetMs`) and never past the invocation's deadline, after which it is CAPACITY_EXCEEDED (nothing was
 * written: a cancelled transaction writes nothing). A condition failure surfaces as `TransactionCancelled` so the
 * caller can explain it.
 */
export async function transactWrite(items: TransactItem[], options: { throttleBudgetMs?: number } = {}): Promise<void> {
  const { doc } = db();
  const conflicts = new Backoff(CONFLICT_RETRY);
  const throttles = new Backoff({
    baseMs: THROTTLE_BASE_DELAY_MS,
    budgetMs: options.throttleBudgetMs ?? THROTTLE_BUDGET_MS,
  });
  for (;;) {
    try {
      // The token makes the SDK's own retry of a call whose response was lost idempotent (10 minutes), instead
      // of re-running it into our own conditions (a checkout would then look like a replay).
      await doc.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
      return;
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
      if (isConflict(error, reasons)) {
        if (!(await conflicts.wait())) throw new ConcurrencyError("too many concurrent writers; retry the request");
        continue;
      }
      if (isThrottledTransaction(reasons)) {
        if (!(await throttles.wait())) throw capacityExceeded(error);
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
