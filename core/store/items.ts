import { BatchGetCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { Backoff } from "../retry.js";
import { db } from "./client.js";
import { capacityExceeded } from "./throttle.js";

const UNPROCESSED_BUDGET_MS = 3_000;

type Key = { pk: string; sk: string };

/** One item by key, strongly consistent (every read here decides or explains a write). */
export async function getItem(key: Key): Promise<Record<string, unknown> | undefined> {
  const { doc, tableName } = db();
  return (await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
}

/** Several items by key in as few round trips as DynamoDB allows (unprocessed keys are asked again). */
export async function getItems(keys: Key[]): Promise<Record<string, unknown>[]> {
  const { doc, tableName } = db();
  const found: Record<string, unknown>[] = [];
  let pending: Record<string, unknown>[] = keys;
  // Keys DynamoDB left unprocessed (it was throttled) are asked again after a backoff, for a bounded time.
  const backoff = new Backoff({ baseMs: 50, budgetMs: UNPROCESSED_BUDGET_MS });
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0 && !(await backoff.wait()))
      throw capacityExceeded(new Error(`${pending.length} keys stayed unprocessed`));
    const result = await doc.send(
      new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
    );
    found.push(...(result.Responses?.[tableName] ?? []));
    pending = (result.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
  }
  return found;
}
