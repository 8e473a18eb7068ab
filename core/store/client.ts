import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.js";
import { capacityExceeded, isThrottling } from "./throttle.js";

/**
 * The table name and the DynamoDB client, resolved once from the settings (core/config.ts) on first use;
 * `DYNAMODB_ENDPOINT` points the SDK at DynamoDB Local. A test that switches tables sets the settings again and
 * clears this with `setDb(undefined)`.
 */
export interface Db {
  tableName: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

let current: Db | undefined;

const CAPACITY_MIDDLEWARE = "orderlineCapacityExceeded";

/**
 * The SDK retries throttled requests itself (jittered backoff, `maxAttempts`); this middleware, outside that retry
 * loop, turns a throttle that outlived it into CAPACITY_EXCEEDED, so no caller mistakes it for a business answer.
 */
function mapThrottling(client: DynamoDBClient): void {
  try {
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          throw isThrottling(error) ? capacityExceeded(error) : error;
        }
      },
      { step: "initialize", name: CAPACITY_MIDDLEWARE },
    );
  } catch {
    // already installed on this client
  }
}

export function db(): Db {
  if (current) return current;
  const { tableName, dynamoEndpoint: endpoint, region } = config();
  if (!tableName) throw new Error("ORDERLINE_TABLE is not set");
  const client = new DynamoDBClient({
    ...(endpoint
      ? {
          endpoint,
          region,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        }
      : {}),
    maxAttempts: 5,
  });
  mapThrottling(client);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  current = { tableName, client, doc };
  return current;
}

/** Replace the resolved client (tests that wrap the client, the local runtime). */
export function setDb(next: Db | undefined): void {
  if (next) mapThrottling(next.client);
  current = next;
}
