import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createTable, startDynamoLocal, type DynamoLocal } from "./dynamo.js";
import { createGateway, type LocalRoute } from "./gateway.js";

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Use this DynamoDB (Local) endpoint instead of starting one. */
  dynamoEndpoint?: string;
  tableName?: string;
  log?: (line: string) => void;
}

export interface LocalRuntime {
  url: string;
  dynamoEndpoint: string;
  tableName: string;
  stop(): Promise<void>;
}

/**
 * Everything `npm run dev` runs, in this process: DynamoDB Local (in memory), the table, and the HTTP gateway in
 * front of the same handlers Lambda runs. The handlers find the table through the same environment variables
 * they read in AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  let dynamo: DynamoLocal | undefined;
  const dynamoEndpoint = options.dynamoEndpoint ?? (dynamo = await startDynamoLocal()).endpoint;
  if (dynamo) log(`DynamoDB Local (in memory) at ${dynamoEndpoint}, ready in ${Date.now() - started} ms`);
  const tableName = options.tableName ?? "orderline-local";
  await createTable(dynamoEndpoint, tableName);
  log(`table ${tableName} created`);

  process.env.ORDERLINE_TABLE = tableName;
  process.env.DYNAMODB_ENDPOINT = dynamoEndpoint;
  process.env.ORDERLINE_TRUST_ACTOR_HEADER = "true";

  let ready = false;
  const health: LocalRoute = async (req, url) =>
    req.method === "GET" && url.pathname === "/health"
      ? ready
        ? { status: 200, body: { status: "ok" } }
        : { status: 503, body: { status: "starting" } }
      : undefined;
  const server: Server = createGateway([health]);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  ready = true;
  log(`HTTP API at ${url} (GET /health), ready ${Date.now() - started} ms after start`);

  return {
    url,
    dynamoEndpoint,
    tableName,
    stop: async () => {
      ready = false;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo?.stop();
    },
  };
}
