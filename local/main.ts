import { startLocalRuntime } from "./runtime.js";

/** `npm run dev`: the whole service on this machine. Ctrl-C stops everything, DynamoDB Local included. */
const started = Date.now();
const busPort = process.env.ORDERLINE_EVENT_BUS_PORT;
const runtime = await startLocalRuntime({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? "127.0.0.1",
  ...(busPort ? { eventBusPort: Number(busPort) } : {}),
  log: (line) => console.log(`[orderline] ${line}`),
});

console.log(
  [
    `[orderline] ready in ${Date.now() - started} ms`,
    `  HTTP API        ${runtime.url}  (GET /health, GET /_local/events?source=&detailType=)`,
    `  event bus       ${runtime.eventBusEndpoint}  (PutEvents: new EventBridgeClient({ endpoint: "${runtime.eventBusEndpoint}" }), EventBusName "${process.env.ORDERLINE_EVENT_BUS}")`,
    `  DynamoDB Local  ${runtime.dynamoEndpoint}  (table ${runtime.tableName})`,
  ].join("\n"),
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    // A second Ctrl-C while stopping: leave now (Ctrl-C reaches DynamoDB Local too: same process group).
    console.log(`[orderline] ${signal} again: exiting`);
    process.exit(130);
  }
  stopping = true;
  console.log(`[orderline] ${signal}: stopping`);
  await runtime.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
