import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { reloadConfig } from "../core/config.js";
import { db, setDb } from "../core/store/client.js";
import { scheduledJobs } from "../functions/scheduled/jobs.js";
import { streamPublisher } from "../functions/stream/publisher-source.js";
import { type BusEvent, LOCAL_ACCOUNT, LOCAL_REGION, LocalBus } from "./bus.js";
import { docsRoute } from "./docs-route.js";
import { createTable, type DynamoLocal, localClient, startDynamoLocal } from "./dynamo.js";
import { createGateway, type LocalRoute } from "./gateway.js";
import { importHandler, lambdaContext } from "./lambda.js";
import { PartitionLimiter, partitionWcuFromEnv } from "./partition-limit.js";
import { StreamPoller } from "./poller.js";

/** The bus name the handlers publish to on the local runtime (`ORDERLINE_EVENT_BUS`). */
export const LOCAL_EVENT_BUS = "orderline-local";

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Use this DynamoDB (Local) endpoint instead of starting one. */
  dynamoEndpoint?: string;
  /** Keep DynamoDB Local's data in this existing directory (survives a restart); default: in memory. */
  dataDir?: string;
  tableName?: string;
  /** Port of the local EventBridge (PutEvents) endpoint; default: a free one. */
  eventBusPort?: number;
  /** Interval of the scheduled jobs; default `ORDERLINE_SCHEDULE_INTERVAL_MS` or 60000. */
  scheduleIntervalMs?: number;
  /** Stream poll interval; default 100 ms. */
  pollIntervalMs?: number;
  /**
   * Throttle any partition key of the table or of an index past this many write units a second, as DynamoDB does
   * at 1,000 (local/partition-limit.ts); default `ORDERLINE_LOCAL_PARTITION_WCU`, else no limit.
   */
  partitionWcu?: number;
  log?: (line: string) => void;
}

export interface LocalRuntime {
  url: string;
  dynamoEndpoint: string;
  tableName: string;
  /** The PutEvents endpoint (also in `GET /health`). */
  eventBusEndpoint: string;
  /** The local event bus: `bus.events()`, `bus.waitFor()`, `bus.deadLetters`, `bus.idle()`. */
  bus: LocalBus;
  /** The stream poller: `poller.drained()`, `poller.onFailure`. */
  poller: StreamPoller;
  /** The partition limit on the handlers' DynamoDB client, when one is set (`stats()`). */
  partitionLimit: PartitionLimiter | undefined;
  /** Runs a scheduled job now (as its EventBridge schedule would) and resolves with its result. */
  runScheduledJob(name: (typeof scheduledJobs)[number]["name"]): Promise<unknown>;
  stop(): Promise<void>;
}

type ScheduledHandler = (event: BusEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

/** Bus port of the previous runtime in this process: reused so SDK clients cached by handlers keep working. */
let previousBusPort: number | undefined;

function scheduleInterval(option: number | undefined, warn: (line: string) => void): number {
  if (option !== undefined) return option;
  const text = process.env.ORDERLINE_SCHEDULE_INTERVAL_MS;
  if (text === undefined || text === "") return 60_000;
  const value = Number(text);
  if (Number.isInteger(value) && value > 0) return value;
  warn(`ORDERLINE_SCHEDULE_INTERVAL_MS=${text} is not a positive integer; using 60000`);
  return 60_000;
}

/** The event an EventBridge schedule rule sends its target. */
function scheduledEvent(ruleName: string): BusEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${ruleName}`],
    detail: {},
  };
}

async function listenBus(bus: LocalBus, port: number | undefined): Promise<string> {
  if (port !== undefined) return bus.listen(port);
  if (previousBusPort !== undefined) {
    try {
      return await bus.listen(previousBusPort);
    } catch {
      // taken by someone else: any free port
    }
  }
  return bus.listen(0);
}

type Log = (line: string) => void;

/** Stop steps, run newest first; a failing step is reported and the rest still run. Safe to run twice. */
class Cleanup {
  private readonly steps: (() => Promise<void>)[] = [];

  constructor(private readonly warn: Log) {}

  push(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  readonly run = async (): Promise<void> => {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.warn(`stopping: ${(error as Error).message}`);
      }
    }
  };
}

/** The given endpoint, or a DynamoDB Local started for this runtime (stopped with it). */
async function dynamoEndpointFor(options: LocalRuntimeOptions, log: Log, cleanup: Cleanup): Promise<string> {
  if (options.dynamoEndpoint !== undefined) return options.dynamoEndpoint;
  const started = Date.now();
  const dynamo: DynamoLocal = await startDynamoLocal({ dbPath: options.dataDir });
  cleanup.push(() => dynamo.stop());
  log(
    `DynamoDB Local (${options.dataDir ? `data in ${options.dataDir}` : "in memory"}) at ${dynamo.endpoint}, ready in ${Date.now() - started} ms`,
  );
  return dynamo.endpoint;
}

/** Creates the table unless it exists; true when this runtime created it. */
async function ensureTable(endpoint: string, tableName: string, log: Log): Promise<boolean> {
  try {
    await createTable(endpoint, tableName);
    log(`table ${tableName} created`);
    return true;
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceInUseException") throw error;
    log(`table ${tableName} exists: using it`);
    return false;
  }
}

/** The environment the handlers read, set before any handler module loads. */
function setHandlerEnvironment(tableName: string, dynamoEndpoint: string): void {
  process.env.ORDERLINE_TABLE = tableName;
  process.env.DYNAMODB_ENDPOINT = dynamoEndpoint;
  process.env.ORDERLINE_TRUST_ACTOR_HEADER = "true";
  // Suppliers verify the HMAC of each dispatch; locally a fixed development secret unless one is given.
  process.env.SUPPLIER_SIGNING_SECRET ||= "orderline-local-development-secret";
  process.env.ORDERLINE_EVENT_BUS = LOCAL_EVENT_BUS;
  process.env.AWS_REGION ??= LOCAL_REGION;
  // The SDK clients the handlers create need some credentials; nothing here talks to AWS.
  if (!process.env.AWS_ACCESS_KEY_ID) {
    process.env.AWS_ACCESS_KEY_ID = "local";
    process.env.AWS_SECRET_ACCESS_KEY = "local";
  }
  reloadConfig();
}

/** Puts the partition limit on the handlers' client when one is configured; the limiter is removed at stop. */
function installPartitionLimit(
  options: LocalRuntimeOptions,
  dynamoEndpoint: string,
  warn: Log,
  cleanup: Cleanup,
): PartitionLimiter | undefined {
  const partitionWcu = options.partitionWcu ?? partitionWcuFromEnv(warn);
  if (partitionWcu === undefined) return undefined;
  // The handlers' client, built now for this runtime's table and endpoint, carries the limit.
  setDb(undefined);
  const limiter = new PartitionLimiter({ wcu: partitionWcu, reader: localClient(dynamoEndpoint) });
  limiter.install(db().client);
  cleanup.push(() => limiter.close());
  // Announced even when progress lines are not: a throttling runtime must not look like a slow one.
  (options.log ?? ((line: string) => console.log(`[orderline] ${line}`)))(
    `partition limit on: any table or index partition key past ${partitionWcu} write units/s is throttled (ORDERLINE_LOCAL_PARTITION_WCU)`,
  );
  return limiter;
}

/** The local event bus with its PutEvents endpoint, which the handlers find in `EVENTBRIDGE_ENDPOINT`. */
async function startBus(
  options: LocalRuntimeOptions,
  log: Log,
  warn: Log,
  cleanup: Cleanup,
): Promise<{ bus: LocalBus; eventBusEndpoint: string }> {
  const bus = new LocalBus({ busNames: [LOCAL_EVENT_BUS], log: (line) => warn(`event bus: ${line}`) });
  const eventBusEndpoint = await listenBus(bus, options.eventBusPort);
  previousBusPort = Number(new URL(eventBusEndpoint).port);
  cleanup.push(() => bus.close());
  process.env.EVENTBRIDGE_ENDPOINT = eventBusEndpoint;
  log(`event bus ${LOCAL_EVENT_BUS}: PutEvents at ${eventBusEndpoint}, rules delivered locally`);
  return { bus, eventBusEndpoint };
}

async function startPoller(
  options: LocalRuntimeOptions,
  table: { dynamoEndpoint: string; tableName: string; created: boolean },
  log: Log,
  warn: Log,
  cleanup: Cleanup,
): Promise<StreamPoller> {
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const poller = new StreamPoller({
    endpoint: table.dynamoEndpoint,
    tableName: table.tableName,
    // A table this runtime created is read from its beginning, so nothing written before the poller is missed.
    startAt: table.created ? "TRIM_HORIZON" : "LATEST",
    intervalMs: pollIntervalMs,
    log: (line) => warn(`stream poller: ${line}`),
  });
  await poller.start();
  cleanup.push(() => poller.stop());
  log(`stream poller on ${poller.arn} every ${pollIntervalMs} ms -> ${streamPublisher.handler}`);
  return poller;
}

/** `GET /health`: 503 until the runtime is ready, then 200; both name the local endpoints. */
function healthRoute(endpoints: Record<string, string>, isReady: () => boolean): LocalRoute {
  return async (req, url) => {
    if (req.method !== "GET" || url.pathname !== "/health") return undefined;
    return isReady()
      ? { status: 200, body: { status: "ok", ...endpoints } }
      : { status: 503, body: { status: "starting", ...endpoints } };
  };
}

/** `GET /openapi.json`, built on first request (loading zod-openapi is not worth delaying start-up), then kept. */
function openApiRoute(): LocalRoute {
  let document: unknown;
  return async (req, url) => {
    if (req.method !== "GET" || url.pathname !== "/openapi.json") return undefined;
    document ??= (await import("../functions/openapi-document.js")).document();
    return { status: 200, body: document };
  };
}

/** The admin console (local/admin-route.ts), loaded on its first request like the OpenAPI document. */
const adminConsoleRoute: LocalRoute = async (req, url) =>
  url.pathname.startsWith("/admin") ? (await import("./admin-route.js")).adminRoute(req, url) : undefined;

/** Listens on `options.port`/`options.host`; `GET /health` answers 503 until `ready()` is called. */
async function startGateway(
  options: LocalRuntimeOptions,
  endpoints: { eventBusEndpoint: string; dynamodbEndpoint: string; tableName: string },
  bus: LocalBus,
  cleanup: Cleanup,
): Promise<{ url: string; ready(): void }> {
  let ready = false;
  const health = healthRoute(endpoints, () => ready);
  const server: Server = createGateway([health, openApiRoute(), docsRoute, bus.route, adminConsoleRoute]);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, host, () => resolve());
  });
  cleanup.push(async () => {
    ready = false;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    ready: () => {
      ready = true;
    },
  };
}

/** Runs each scheduled job on a timer; returns the function that runs one now. */
function startScheduledJobs(options: LocalRuntimeOptions, log: Log, warn: Log, cleanup: Cleanup) {
  const intervalMs = scheduleInterval(options.scheduleIntervalMs, warn);
  const running = new Map<string, Promise<unknown>>();
  const runJob = (name: string): Promise<unknown> => {
    const job = scheduledJobs.find((j) => j.name === name);
    if (!job) return Promise.reject(new Error(`no scheduled job ${name}`));
    const current = running.get(name);
    if (current) return current; // like a schedule with reserved concurrency 1: runs never overlap
    const run = importHandler<ScheduledHandler>(job.handler)
      .then((handler) =>
        handler(
          scheduledEvent(`orderline-${job.name}`),
          lambdaContext(`orderline-${job.name}`, job.timeoutSeconds * 1000),
        ),
      )
      .finally(() => running.delete(name));
    running.set(name, run);
    return run;
  };
  const timers = scheduledJobs.map((job) =>
    setInterval(() => {
      runJob(job.name).catch((error: unknown) => warn(`scheduled job ${job.name} failed: ${(error as Error).message}`));
    }, intervalMs),
  );
  cleanup.push(async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.allSettled([...running.values()]);
  });
  if (scheduledJobs.length > 0)
    log(`scheduled jobs every ${intervalMs} ms: ${scheduledJobs.map((j) => j.name).join(", ")}`);
  return runJob;
}

/**
 * Everything `npm run dev` runs, in this process: DynamoDB Local (in memory), the table, the local event bus
 * (PutEvents endpoint + rule delivery), the stream poller feeding the stream publisher, the scheduled jobs, and the
 * HTTP gateway in front of the same handlers Lambda runs. The handlers find the table and the bus through the same
 * environment variables they read in AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log: Log = options.log ?? (() => undefined);
  // Failures (dead letters, dropped stream records) are always reported, even when progress lines are not.
  const warn: Log = options.log ?? ((line: string) => console.warn(`[orderline] ${line}`));
  const started = Date.now();
  const cleanup = new Cleanup(warn);
  try {
    const dynamoEndpoint = await dynamoEndpointFor(options, log, cleanup);
    const tableName = options.tableName ?? "orderline-local";
    const created = await ensureTable(dynamoEndpoint, tableName, log);
    setHandlerEnvironment(tableName, dynamoEndpoint);
    const partitionLimit = installPartitionLimit(options, dynamoEndpoint, warn, cleanup);
    const { bus, eventBusEndpoint } = await startBus(options, log, warn, cleanup);
    // startBus set EVENTBRIDGE_ENDPOINT: read the settings again (core/config.ts keeps the last reading), or the
    // publisher would miss this runtime's bus.
    reloadConfig();
    const poller = await startPoller(options, { dynamoEndpoint, tableName, created }, log, warn, cleanup);
    const endpoints = { eventBusEndpoint, dynamodbEndpoint: dynamoEndpoint, tableName };
    const gateway = await startGateway(options, endpoints, bus, cleanup);
    const runScheduledJob = startScheduledJobs(options, log, warn, cleanup);

    gateway.ready();
    log(
      `HTTP API at ${gateway.url} (GET /health, GET /openapi.json, GET /_local/events), ready ${Date.now() - started} ms after start`,
    );
    return {
      url: gateway.url,
      dynamoEndpoint,
      tableName,
      eventBusEndpoint,
      bus,
      poller,
      partitionLimit,
      runScheduledJob,
      stop: cleanup.run,
    };
  } catch (error) {
    await cleanup.run();
    throw error;
  }
}
