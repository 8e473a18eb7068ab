import { ulid } from "ulid";
import { inject } from "vitest";
import { setDb } from "../../core/store/client.js";
import { createTable } from "../../local/dynamo.js";

/**
 * A fresh table in the shared DynamoDB Local, wired into the environment the handlers read. Call in beforeAll
 * before any core function runs.
 */
export async function freshTable(prefix = "t"): Promise<{ endpoint: string; tableName: string }> {
  const endpoint = inject("dynamoEndpoint");
  const tableName = `${prefix}-${ulid().toLowerCase()}`;
  await createTable(endpoint, tableName);
  process.env.ORDERLINE_TABLE = tableName;
  process.env.DYNAMODB_ENDPOINT = endpoint;
  setDb(undefined);
  return { endpoint, tableName };
}
