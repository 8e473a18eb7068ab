import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { db } from "./client.js";
import { type TransactItem, transactWrite } from "./transact.js";

/** A single write refused by its condition: the item was not what the write assumed. */
export class ConditionFailed extends Error {
  constructor() {
    super("the condition of the write was not met");
  }
}

type Key = { pk: string; sk: string };

export interface ItemUpdate {
  key: Key;
  /** `SET ... REMOVE ... ADD ...` */
  update: string;
  condition?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

async function conditional<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new ConditionFailed();
    throw error;
  }
}

/** One conditional update (not a transaction: half the write units). Throws ConditionFailed when refused. */
export async function updateItem(
  spec: ItemUpdate,
  options: { returnNew?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const { doc, tableName } = db();
  return conditional(async () => {
    const result = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: spec.key,
        UpdateExpression: spec.update,
        ConditionExpression: spec.condition,
        ExpressionAttributeNames: spec.names,
        ExpressionAttributeValues: spec.values,
        ...(options.returnNew ? { ReturnValues: "ALL_NEW" as const } : {}),
      }),
    );
    return result.Attributes;
  });
}

/** A conditional update whose refusal is an answer, not a fault: false when its condition was not met. */
export async function updateIfMet(update: ItemUpdate): Promise<boolean> {
  try {
    await updateItem(update);
    return true;
  } catch (error) {
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
}

/** One item, whole (optionally conditional). Throws ConditionFailed when refused. */
export async function putItem(
  item: Key & Record<string, unknown>,
  condition?: { expression: string; values?: Record<string, unknown> },
): Promise<void> {
  const { doc, tableName } = db();
  await conditional(() =>
    doc.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: condition?.expression,
        ExpressionAttributeValues: condition?.values,
      }),
    ),
  );
}

/**
 * Update actions, all or none: one alone as a plain conditional update (half the write units of a transaction),
 * several in one transaction. A refusal is ConditionFailed (one) or TransactionCancelled (several).
 */
export async function writeUpdates(actions: TransactItem[]): Promise<void> {
  if (actions.length === 1) await updateAlone(actions[0]!);
  else await transactWrite(actions);
}

/** The update action of a transaction, sent alone as a plain conditional update. */
async function updateAlone(action: TransactItem): Promise<void> {
  const update = action.Update!;
  await updateItem({
    key: update.Key as Key,
    update: update.UpdateExpression!,
    ...(update.ConditionExpression ? { condition: update.ConditionExpression } : {}),
    ...(update.ExpressionAttributeNames ? { names: update.ExpressionAttributeNames } : {}),
    ...(update.ExpressionAttributeValues ? { values: update.ExpressionAttributeValues } : {}),
  });
}
