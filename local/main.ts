import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { compactLogLine, MetricSummary, parseEmf, rewriteLines } from "./dev-console.js";
import { formatAccessLine, onAccess } from "./gateway.js";
import { type LocalRuntime, startLocalRuntime } from "./runtime.js";

/** `npm run dev`: the whole service on this machine. Ctrl-C stops everything, DynamoDB Local included. */
const started = Date.now();
const say = (line: string) => console.log(`[orderline] ${line}`);

function fail(line: string): never {
  console.error(`[orderline] ${line}`);
  process.exit(1);
}

function portFrom(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`${name}=${text} is not a port number (0 to 65535); for example ${name}=${fallback || 3001} npm run dev`);
  return port;
}

/** A port nobody listens on right now, to suggest. */
function freePort(host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(undefined));
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** What to tell the user when `host:port` cannot be listened on, or undefined for an error that is not about that. */
async function listenProblem(
  error: NodeJS.ErrnoException,
  name: string,
  port: number,
  host: string,
): Promise<string | undefined> {
  const other = (await freePort(host)) ?? 3001;
  if (error.code === "EADDRINUSE")
    return `port ${port} on ${host} is already in use (another \`npm run dev\`?). Stop what listens there, or choose another port: ${name}=${other} npm run dev`;
  if (error.code === "EACCES")
    return `port ${port} on ${host} needs privileges this user does not have; choose a port above 1023: ${name}=${other} npm run dev`;
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
    return `HOST=${host} is not an address of this machine; use HOST=127.0.0.1 (the default) or HOST=0.0.0.0`;
  return undefined;
}

/**
 * Fails now, with what to do, when a port the runtime needs cannot be listened on: before DynamoDB Local and the
 * table take seconds to start, and without the stack a failed `listen` would print then.
 */
async function checkPort(name: string, port: number, host: string): Promise<void> {
  if (port === 0) return;
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const probe = createServer();
    probe.once("error", resolve);
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
  if (error)
    fail((await listenProblem(error, name, port, host)) ?? `cannot listen on ${host}:${port}: ${error.message}`);
}

/** `--data-dir <dir>`, `--data-dir=<dir>` or ORDERLINE_DATA_DIR: where DynamoDB Local keeps its data; unset: memory. */
function dataDirOption(): string | undefined {
  const args = process.argv.slice(2);
  let given = process.env.ORDERLINE_DATA_DIR || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--data-dir") {
      given = args[++i];
      if (!given) fail("--data-dir needs a directory, for example: npm run dev -- --data-dir .orderline-data");
    } else if (arg.startsWith("--data-dir=")) given = arg.slice("--data-dir=".length);
  }
  if (!given) return undefined;
  const dir = resolve(given);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    fail(`cannot use ${dir} as the data directory: ${(error as Error).message}`);
  }
  return dir;
}

function metricsInterval(): number {
  const text = process.env.ORDERLINE_METRICS_INTERVAL_MS;
  const value = text ? Number(text) : 10_000;
  return Number.isInteger(value) && value > 0 ? value : 10_000;
}

const host = process.env.HOST || "127.0.0.1";
const dataDir = dataDirOption();
const port = portFrom("PORT", 3000);
const busPort = process.env.ORDERLINE_EVENT_BUS_PORT ? portFrom("ORDERLINE_EVENT_BUS_PORT", 0) : undefined;
await checkPort("PORT", port, host);
if (busPort !== undefined) await checkPort("ORDERLINE_EVENT_BUS_PORT", busPort, "127.0.0.1");

/**
 * One Ctrl-C reaches this process more than once: the terminal signals the whole process group (npm, tsx and this
 * process), and npm and tsx each forward the signal to their child as well. Signals within this window of the first
 * are that same Ctrl-C; a later one is the user asking again, and exits at once.
 */
const SAME_SIGNAL_MS = 1000;
let stopRequestedAt: number | undefined;
let stopSignal: NodeJS.Signals = "SIGINT";
let runtime: LocalRuntime | undefined;

// The dev console: one access line per request; the handlers' EMF metrics counted and summarized, and their JSON
// log lines shortened to one readable line each. ORDERLINE_RAW_LOGS=true prints both exactly as Lambda does.
onAccess((entry) => console.log(`[http] ${formatAccessLine(entry)}`));
const metrics = new MetricSummary();
if (process.env.ORDERLINE_RAW_LOGS !== "true") {
  rewriteLines(process.stdout, (line) => {
    const emf = parseEmf(line);
    if (emf) {
      metrics.add(emf);
      return null;
    }
    return compactLogLine(line);
  });
  // Powertools writes WARN and ERROR lines to stderr.
  rewriteLines(process.stderr, compactLogLine);
  setInterval(() => {
    const line = metrics.takeRecent();
    if (line) console.log(`[metrics] ${line}`);
  }, metricsInterval()).unref();
}

async function stop(signal: string): Promise<void> {
  say(`${signal}: stopping`);
  const totals = metrics.totals();
  if (totals) console.log(`[metrics] since start: ${totals}`);
  try {
    await runtime?.stop();
    say("stopped");
    process.exit(0);
  } catch (error) {
    fail(`stopping failed: ${(error as Error).message}`);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopRequestedAt === undefined) {
    stopRequestedAt = Date.now();
    stopSignal = signal;
    // During start-up the stop waits for the runtime, so nothing it started is left behind.
    if (runtime) void stop(signal);
    return;
  }
  if (Date.now() - stopRequestedAt < SAME_SIGNAL_MS) return;
  say(`${signal} again: exiting`);
  process.exit(130);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  runtime = await startLocalRuntime({
    port,
    host,
    ...(busPort !== undefined ? { eventBusPort: busPort } : {}),
    ...(dataDir ? { dataDir } : {}),
    log: say,
  });
} catch (error) {
  // Taken between the check and the start (rare): the same message, never a stack.
  const err = error as NodeJS.ErrnoException & { port?: number };
  const problem = err.code
    ? await listenProblem(err, err.port === busPort ? "ORDERLINE_EVENT_BUS_PORT" : "PORT", err.port ?? port, host)
    : undefined;
  if (problem) fail(problem);
  console.error(error);
  fail("could not start");
}

if (stopRequestedAt !== undefined) await stop(stopSignal);

say(`ready in ${Date.now() - started} ms`);
console.log(
  [
    `  HTTP API        ${runtime.url}  (GET /health, GET /_local/events?source=&detailType=)`,
    `  API reference   ${runtime.url}/docs  (OpenAPI document: ${runtime.url}/openapi.json)`,
    `  event bus       ${runtime.eventBusEndpoint}  (PutEvents: new EventBridgeClient({ endpoint: "${runtime.eventBusEndpoint}" }), EventBusName "${process.env.ORDERLINE_EVENT_BUS}")`,
    `  DynamoDB Local  ${runtime.dynamoEndpoint}  (table ${runtime.tableName}; ${dataDir ? `data kept in ${dataDir}` : "in memory: set ORDERLINE_DATA_DIR or --data-dir to keep it"})`,
    `  tour            ORDERLINE_URL=${runtime.url} npm run demo`,
  ].join("\n"),
);
