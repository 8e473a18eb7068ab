import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { db } from "./client.js";
import { Entity, keys } from "./table.js";

export interface Lease {
  release(): Promise<void>;
}

/**
 * Takes the lease of a background job for `ttlMs`, or returns undefined when another run holds it: two runs of one
 * job never overlap (a run that dies frees the lease when it runs out; TTL cleans the item up later). Reserved
 * concurrency 1 on the deployed function says the same; the lease also covers a manual invocation.
 */
export async function acquireLease(job: string, ttlMs: number, now = Date.now()): Promise<Lease | undefined> {
  const { doc, tableName } = db();
  const holder = ulid();
  const key = keys.jobLease(job);
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...key,
          entity: Entity.JobLease,
          job,
          holder,
          leaseUntil: now + ttlMs,
          expiresAt: Math.ceil((now + ttlMs) / 1000) + 3600,
        },
        ConditionExpression: "attribute_not_exists(pk) OR leaseUntil < :now",
        ExpressionAttributeValues: { ":now": now },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
  return {
    async release() {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: "holder = :me",
            ExpressionAttributeValues: { ":me": holder },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}

/** Runs `work` over `inputs` with at most `concurrency` at a time, in input order of start. */
export async function inParallel<T>(
  inputs: T[],
  concurrency: number,
  work: (input: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, inputs.length) }, async () => {
    while (next < inputs.length) await work(inputs[next++]!);
  });
  await Promise.all(workers);
}
