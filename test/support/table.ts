import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { inject } from "vitest";
import { db, setDb } from "../../core/store/client.js";
import { createTable } from "../../local/dynamo.js";
import { setEnv } from "./env.js";

/**
 * A fresh table in the shared DynamoDB Local, wired into the environment the handlers read. Call in beforeAll
 * before any core function runs.
 */
export async function freshTable(prefix = "t"): Promise<{ endpoint: string; tableName: string }> {
  const endpoint = inject("dynamoEndpoint");
  const tableName = `${prefix}-${ulid().toLowerCase()}`;
  await createTable(endpoint, tableName);
  setEnv({ ORDERLINE_TABLE: tableName, DYNAMODB_ENDPOINT: endpoint });
  setDb(undefined);
  return { endpoint, tableName };
}

/**
 * Updates a stored item directly, past the domain code: the state a crash, a race or an operator's raw fix leaves
 * behind, which no API call can produce.
 */
export async function updateStoredItem(
  key: { pk: string; sk: string },
  updateExpression: string,
  values: Record<string, unknown>,
): Promise<void> {
  const { doc, tableName } = db();
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: updateExpression,
      ExpressionAttributeValues: values,
    }),
  );
}
