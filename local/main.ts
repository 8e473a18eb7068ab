import { startLocalRuntime } from "./runtime.js";

/** `npm run dev`: the whole service on this machine. Ctrl-C stops everything, DynamoDB Local included. */
const runtime = await startLocalRuntime({
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? "127.0.0.1",
  log: (line) => console.log(`[orderline] ${line}`),
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[orderline] ${signal}: stopping`);
  await runtime.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
