import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { Catalog } from "../core/catalog/index.js";
import { buildOrder, CheckoutInput, checkoutActions, requestHash } from "../core/order/checkout.js";
import { db } from "../core/store/client.js";
import { lambdaContext } from "../local/lambda.js";
import { startLocalRuntime } from "../local/runtime.js";
import { barChart } from "./chart.js";
import { checkoutCost, PRICES, stockUpdateCost, transitionCost } from "./cost.js";
import { coldStart, eventLag } from "./sections.js";
import { measure, merge, percentile, type Summary } from "./stats.js";

/**
 * `npm run bench`: every figure of issue 5 in one run on this machine, printed as a table and written to
 * bench/results.json and bench/results.svg. Goals are printed beside the figures; nothing here asserts.
 */
const N = Number(process.env.BENCH_N ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SKU_POOL = 64;

const started = performance.now();
/** Progress on stderr, so a failing section is named. */
const progress = (what: string) =>
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}`);
const runtime = await startLocalRuntime({ port: 0 });
const results: Record<string, unknown> = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  at: new Date().toISOString(),
};

async function seedPool(prefix: string, onHand: number) {
  const skus = [];
  for (let i = 0; i < SKU_POOL; i++) {
    const skuId = `${prefix}-${i}`;
    await Catalog.putOffer(skuId, { offerId: `off-${skuId}`, unitPrice: 12000, currency: "KRW", title: "Clean Code" });
    await Catalog.setStock(skuId, { onHand });
    skus.push({ skuId, offerId: `off-${skuId}`, unitPrice: 12000 });
  }
  return skus;
}

function requestBody(skus: { skuId: string; offerId: string; unitPrice: number }[], i: number, lines: number) {
  return {
    userId: `bench-user-${i % 100}`,
    idempotencyKey: `bench-${ulid()}`,
    items: Array.from({ length: lines }, (_, j) => ({ ...skus[(i * lines + j) % SKU_POOL]!, qty: 1 })),
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
  };
}

// 1. Checkout overhead: handler in process, through the HTTP gateway, raw TransactWriteItems.
progress("1. checkout overhead");
const { handler } = await import("../functions/api/orders.js");
const overhead: Record<string, Record<string, Summary>> = {};
for (const lines of [1, 5]) {
  const skus = await seedPool(`bench${lines}`, 1_000_000);
  const { doc, tableName } = db();
  // The raw baseline gets its transactions built before the clock starts: it measures DynamoDB alone.
  const rawActions = (i: number) => {
    const input = CheckoutInput.parse(requestBody(skus, i, lines));
    const order = buildOrder(input, input.items!, new Date());
    return checkoutActions(tableName, order, input.items!, requestHash(input, input.items!), {
      actor: "bench",
      requestId: "raw",
    });
  };
  const ROUNDS = 4;
  const prebuilt = Array.from({ length: ROUNDS * N }, (_, i) => rawActions(i));
  const raw = async (i: number) => {
    await doc.send(new TransactWriteCommand({ TransactItems: prebuilt[i] ?? rawActions(i) }));
  };
  const viaHandler = async (i: number) => {
    const body = requestBody(skus, i, lines);
    const result = await handler(
      {
        version: "2.0",
        routeKey: "POST /api/v1/orders",
        rawPath: "/api/v1/orders",
        rawQueryString: "",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { requestId: ulid() } as never,
      },
      lambdaContext("bench"),
    );
    if (result.statusCode !== 201) throw new Error(`handler answered ${result.statusCode}: ${result.body}`);
  };
  const viaHttp = async (i: number) => {
    const response = await fetch(`${runtime.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(requestBody(skus, i, lines)),
    });
    if (response.status !== 201) throw new Error(`gateway answered ${response.status}: ${await response.text()}`);
  };
  // DynamoDB Local and the JIT warm up over the first few hundred transactions, and whichever mode ran first
  // paid for it; so warm up first, then interleave the modes in rounds and merge each mode's rounds.
  await measure(
    200,
    CONCURRENCY,
    (i) => doc.send(new TransactWriteCommand({ TransactItems: rawActions(ROUNDS * N + i) })),
    0,
  );
  const runs: Record<string, Summary[]> = { handler: [], http: [], raw: [] };
  const tasks: Record<string, (i: number) => Promise<void>> = { raw, handler: viaHandler, http: viaHttp };
  for (let round = 0; round < ROUNDS; round++)
    for (const [mode, task] of Object.entries(tasks))
      runs[mode]!.push(await measure(N / ROUNDS, CONCURRENCY, (i) => task(round * N + i), 0));
  overhead[`${lines} line(s)`] = { handler: merge(runs.handler!), http: merge(runs.http!), raw: merge(runs.raw!) };
}
results.checkoutOverhead = overhead;

// 2. Hot SKU: 500 concurrent checkouts of one SKU holding 100 units.
progress("2. hot SKU");
const hot = { skuId: "hot-sku", offerId: "off-hot", unitPrice: 5000 };
await Catalog.putOffer(hot.skuId, { offerId: hot.offerId, unitPrice: hot.unitPrice, currency: "KRW" });
await Catalog.setStock(hot.skuId, { onHand: 100 });
const hotStarted = performance.now();
const hotStatuses = await Promise.all(
  Array.from({ length: 500 }, async (_, i) => {
    const response = await fetch(`${runtime.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...requestBody([hot], i, 1), items: [{ ...hot, qty: 1 }] }),
    });
    await response.arrayBuffer();
    return response.status;
  }),
);
const hotSeconds = (performance.now() - hotStarted) / 1000;
const hotStock = await Catalog.getStock(hot.skuId);
results.hotSku = {
  requests: 500,
  created: hotStatuses.filter((s) => s === 201).length,
  conflicts409: hotStatuses.filter((s) => s === 409).length,
  other: hotStatuses.filter((s) => s !== 201 && s !== 409).length,
  finalReserved: hotStock.reserved,
  oversold: Math.max(0, hotStock.reserved - hotStock.onHand),
  throughput: 500 / hotSeconds,
};

// 3. Idempotency storm: 100 concurrent requests with one key.
progress("3. idempotency storm");
const storm = await seedPool("storm", 1000);
const stormBody = requestBody(storm, 1, 1);
const stormLatencies: number[] = [];
const stormStatuses = await Promise.all(
  Array.from({ length: 100 }, async () => {
    const t = performance.now();
    const response = await fetch(`${runtime.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(stormBody),
    });
    const order = (await response.json()) as { orderId?: string };
    stormLatencies.push(performance.now() - t);
    return { status: response.status, orderId: order.orderId };
  }),
);
stormLatencies.sort((a, b) => a - b);
results.idempotencyStorm = {
  requests: 100,
  distinctOrders: new Set(stormStatuses.map((s) => s.orderId)).size,
  created: stormStatuses.filter((s) => s.status === 201).length,
  replayed: stormStatuses.filter((s) => s.status === 200).length,
  errors5xx: stormStatuses.filter((s) => s.status >= 500).length,
  p50: percentile(stormLatencies, 50),
  p99: percentile(stormLatencies, 99),
};

// 4. Cost, from the items the service writes (table and index writes).
progress("4. cost");
const one = checkoutCost(1);
const five = checkoutCost(5);
const payment = transitionCost(true);
const laterTransition = transitionCost(false);
// pay, ready, ship (with the stock consumed in the same transaction), deliver; and two strongly consistent gets
const lifecycleWrites = one.writeUnits + payment + 3 * laterTransition + stockUpdateCost();
results.cost = {
  checkout1: one,
  checkout5: five,
  perExtraLine: (five.writeUnits - one.writeUnits) / 4,
  paymentTransitionWriteUnits: payment,
  laterTransitionWriteUnits: laterTransition,
  lifecycleWriteUnits: lifecycleWrites,
  getReadUnits: one.readUnitsGet,
  usdPerMillionCheckouts: one.writeUnits * PRICES.writeUnitPerMillion,
  usdPerMillionOrdersFullLifecycle:
    lifecycleWrites * PRICES.writeUnitPerMillion + 2 * one.readUnitsGet * PRICES.readUnitPerMillion,
  storageGbPerMillionOrders: (one.storedBytes * 1e6) / 2 ** 30,
};

// 5. Cold start and 6. event lag.
progress("5. cold start, 6. event lag");
results.coldStart = await coldStart();
results.eventLag = await eventLag(runtime);

await runtime.stop();

// Print the table.
const f = (x: number, d = 1) => x.toFixed(d);
console.log(`\nOrderline benchmark — ${JSON.stringify(results.machine)}\n`);
console.log("1. checkout overhead (N=%d, concurrency %d)", N, CONCURRENCY);
console.log(
  "   lines | path    | req/s   | p50 ms | p99 ms | vs raw: throughput, p99   (goal handler >= 0.9x, p99 <= 2x)",
);
for (const [lines, modes] of Object.entries(overhead)) {
  for (const [mode, s] of Object.entries(modes)) {
    const raw = modes.raw!;
    console.log(
      `   ${lines.padEnd(5)} | ${mode.padEnd(7)} | ${f(s.throughput).padStart(7)} | ${f(s.p50).padStart(6)} | ${f(s.p99).padStart(6)} | ${f(s.throughput / raw.throughput, 2)}x, ${f(s.p99 / raw.p99, 2)}x`,
    );
  }
}
console.log("2. hot SKU:", JSON.stringify(results.hotSku), "(goal: exactly 100 created, 0 oversold)");
console.log("3. idempotency storm:", JSON.stringify(results.idempotencyStorm), "(goal: 1 order, 0 5xx)");
console.log("4. cost:", JSON.stringify(results.cost, null, 1), "(goal: <= 10 WCU for 1 line, <= 3 per extra line)");
console.log("5. cold start:", JSON.stringify(results.coldStart, null, 1), "(goal: every bundle <= 500 KB)");
console.log("6. event lag (commit -> local bus):", JSON.stringify(results.eventLag));

mkdirSync("bench", { recursive: true });
writeFileSync(
  "bench/results.json",
  JSON.stringify(results, (key, value) => (key === "latencies" ? undefined : value), 2),
);
const rows = Object.entries(overhead).flatMap(([lines, modes]) =>
  Object.entries(modes).map(([mode, s]) => ({
    label: `checkout ${lines} via ${mode}`,
    value: s.throughput,
    unit: "req/s",
  })),
);
writeFileSync(
  "bench/results.svg",
  barChart(`Checkout throughput (${cpus().length} cores, N=${N}, concurrency ${CONCURRENCY})`, rows),
);
console.log("\nwrote bench/results.json and bench/results.svg");
process.exit(0);
