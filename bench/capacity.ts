import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, totalmem } from "node:os";
import { type DynamoDBClient, GetItemCommand, type TransactWriteItem } from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { ulid } from "ulid";
import { MAX_SHARDS } from "../core/catalog/shards.js";
import { reloadConfig } from "../core/config.js";
import { sleep } from "../core/retry.js";
import { db, setDb } from "../core/store/client.js";
import { keys, ShardCount } from "../core/store/table.js";
import { localClient, startDynamoLocal } from "../local/dynamo.js";
import { type Item, keyText, TABLE, tableSpec } from "../local/partition-limit.js";
import { StreamPoller } from "../local/poller.js";
import { type LocalRuntime, startLocalRuntime } from "../local/runtime.js";
import {
  type CapacitySummary,
  type KeyUnits,
  matchTransactional,
  normalizeImage,
  type ObservedWrite,
  PARTITION_WCU,
  spreadOf,
  summarize,
  unitsByKey,
} from "./capacity-model.js";

/**
 * `npm run bench:capacity`: the capacity model measured from the real write path, and a hot-SKU burst under the
 * emulated partition limit. Figures are printed and written to bench/capacity.json; nothing here asserts.
 *
 * 1. A workload through the local gateway's HTTP routes (real handlers, DynamoDB Local): users, a catalog with
 *    Zipf-skewed popularity (the hottest SKUs sharded), checkouts of 1..5 lines, payment, shipment and delivery,
 *    customer cancels, failed payments, payment timeouts (the expiry job), and dropship relays dispatched to a
 *    real local supplier server with supplier events (marketplace relays, not linked to the workload's orders).
 * 2. Every write is read back from the table's stream (NEW_AND_OLD_IMAGES). From the images: item sizes, each
 *    index's entries put and deleted by key (projections from tableDefinition), so write units per partition key.
 *    The stream does not say whether a write was transactional: a middleware on the handlers' client records, per
 *    item, which successful writes were TransactWriteItems, matched in order to the item's stream records; it also
 *    records ConditionChecks (no stream record, but billed as a transactional write of the item checked).
 *    Not visible this way (so not in the model): writes that change nothing (no stream record), failed conditional
 *    writes and cancelled transactions, and reads.
 * 3. Isolated checkouts of 1, 5 and 50 lines on a quiet system: all the stream shows while each runs is its writes.
 * 4. The burst: one SKU, many concurrent checkouts from distinct users, with ORDERLINE_LOCAL_PARTITION_WCU set
 *    (small, so the limit binds before this laptop's DynamoDB Local does), with 1 shard and with 8.
 *
 * The ceiling is given twice: spread-aware (a key that is one of N shards picked uniformly at its group's total / N,
 * its expectation) and as observed (the most any one key took, which for a few hundred orders over 64 shards is
 * mostly sampling noise). A second workload of one-line orders gives the figure the issue's target is stated for,
 * and a one-line order's lifecycle on a 16-shard SKU gives the one-SKU figure.
 *
 * Knobs: CAPACITY_ORDERS (default 300), CAPACITY_USERS (300), CAPACITY_SKUS (200), CAPACITY_ZIPF_S (1.1),
 * CAPACITY_LINES (lines of every order of the main workload; default a mix of 1..5), CAPACITY_ONE_LINE_ORDERS
 * (orders of the one-line workload; default CAPACITY_ORDERS, 0 skips it, as does CAPACITY_LINES=1),
 * CAPACITY_SHARDED_SKUS (48: the SKUs sharded, by popularity), CAPACITY_TOP_SHARDS (64: the hottest SKU's shards;
 * rank r gets ceil(TOP x (1/(r+1))^s), so each shard's expected share is about the same), CAPACITY_CONCURRENCY (16),
 * CAPACITY_BURST_WCU (or ORDERLINE_LOCAL_PARTITION_WCU when set; default: calibrated so that 8 shards at the limit
 * ask for about a sixth of what this machine does unthrottled, between 4 and 40), CAPACITY_BURST_SECONDS (6),
 * CAPACITY_BURST_CONCURRENCY (32), CAPACITY_BURST_STOCK (400).
 */
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const ORDERS = num("CAPACITY_ORDERS", 300);
const USERS = num("CAPACITY_USERS", 300);
const SKUS = num("CAPACITY_SKUS", 200);
const CONCURRENCY = num("CAPACITY_CONCURRENCY", 16);
const LINES = process.env.CAPACITY_LINES ? num("CAPACITY_LINES", 1) : undefined;
const ONE_LINE_ORDERS =
  LINES === 1 || process.env.CAPACITY_ONE_LINE_ORDERS === "0" ? 0 : num("CAPACITY_ONE_LINE_ORDERS", ORDERS);
/**
 * An operator shards a SKU by its share of the orders: the hottest gets TOP_SHARDS, rank r about TOP x its
 * popularity relative to the hottest's, so every shard of every sharded SKU expects about the same load.
 */
const HOT_SHARDED = num("CAPACITY_SHARDED_SKUS", 48);
const TOP_SHARDS = Math.min(MAX_SHARDS, num("CAPACITY_TOP_SHARDS", MAX_SHARDS));
const ZIPF_S = num("CAPACITY_ZIPF_S", 1.1);
const shardsOf = (rank: number) =>
  rank < HOT_SHARDED ? Math.min(MAX_SHARDS, Math.ceil(TOP_SHARDS * (1 / (rank + 1)) ** ZIPF_S)) : 1;
/** The one-SKU figure: a one-line order's SKU writes divided over this many shards. */
const ONE_SKU_SHARDS = 16;
const LISTINGS = 30;
const SUPPLIERS = 5;
const TIMEOUT_SHARE = 0.08;
const userWcu = process.env.ORDERLINE_LOCAL_PARTITION_WCU;
/** Given (CAPACITY_BURST_WCU, or ORDERLINE_LOCAL_PARTITION_WCU when set), else calibrated to this machine. */
const GIVEN_BURST_WCU = num("CAPACITY_BURST_WCU", num("ORDERLINE_LOCAL_PARTITION_WCU", 0)) || undefined;
const BURST_SECONDS = num("CAPACITY_BURST_SECONDS", 6);
const BURST_CONCURRENCY = num("CAPACITY_BURST_CONCURRENCY", 32);
const BURST_STOCK = num("CAPACITY_BURST_STOCK", 400);
/** Longer than the bench: the scheduled jobs run only when the bench runs them (setInterval caps at 2^31-1 ms). */
const NO_SCHEDULE = 2_000_000_000;

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const say = (line: string) => console.log(line);

// The model phase runs without a limit; the burst sets one itself.
delete process.env.ORDERLINE_LOCAL_PARTITION_WCU;
process.env.ORDERLINE_PAYMENT_WINDOW_SECONDS = "3600";
process.env.ORDERLINE_PAYMENT_GRACE_SECONDS = "0";

// ---------------------------------------------------------------------------------------------------------------
// Helpers: HTTP, a worker pool, a seeded random source, Zipf popularity

interface Answer {
  status: number;
  body: any;
}

function http(baseUrl: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed };
  };
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** mulberry32: the same workload on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(20240601);

/** Ranks 0..n-1 drawn with probability proportional to 1/(rank+1)^s. */
function zipf(n: number, s: number) {
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cumulative.push(total);
  }
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function pick<T>(weighted: [T, number][]): T {
  let x = rand() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [value, w] of weighted) {
    x -= w;
    if (x < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

// ---------------------------------------------------------------------------------------------------------------
// Recording: the stream (every write, with its phase) and the client (transactional or not, condition checks)

interface StreamedWrite {
  phase: string;
  itemKey: string;
  record: DynamoDBRecord;
}

class Recorder {
  phase = "seed";
  readonly records: StreamedWrite[] = [];
  /** Per item, in the order the client saw them succeed: whether each write was transactional. */
  readonly clientWrites = new Map<string, boolean[]>();
  readonly conditionChecks: { phase: string; item: Promise<Item | undefined> }[] = [];
  private poller: StreamPoller | undefined;

  constructor(
    private readonly tableName: string,
    private readonly reader: DynamoDBClient,
  ) {}

  private itemKey(table: string, key: Item | undefined): string {
    const spec = tableSpec();
    return `${table}\u0000${keyText(key?.[spec.partitionKey])}\u0000${keyText(spec.sortKey ? key?.[spec.sortKey] : undefined)}`;
  }

  private wrote(table: string, key: Item | undefined, transactional: boolean): void {
    if (table !== this.tableName) return;
    const id = this.itemKey(table, key);
    const list = this.clientWrites.get(id);
    if (list) list.push(transactional);
    else this.clientWrites.set(id, [transactional]);
  }

  /** Records the handlers' successful writes; "build" sees marshalled input once per request (outside retries). */
  install(client: DynamoDBClient): void {
    const spec = tableSpec();
    const keyOf = (item: Item) => ({
      [spec.partitionKey]: item[spec.partitionKey]!,
      ...(spec.sortKey ? { [spec.sortKey]: item[spec.sortKey]! } : {}),
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as Record<string, any>;
        switch (context.commandName) {
          case "PutItemCommand":
            this.wrote(input.TableName, keyOf(input.Item), false);
            break;
          case "UpdateItemCommand":
          case "DeleteItemCommand":
            this.wrote(input.TableName, input.Key, false);
            break;
          case "BatchWriteItemCommand":
            for (const [table, writes] of Object.entries(input.RequestItems ?? {}))
              for (const w of writes as { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[])
                this.wrote(table, w.PutRequest ? keyOf(w.PutRequest.Item) : w.DeleteRequest?.Key, false);
            break;
          case "TransactWriteItemsCommand":
            for (const action of (input.TransactItems ?? []) as TransactWriteItem[]) {
              if (action.Put) this.wrote(action.Put.TableName!, keyOf(action.Put.Item!), true);
              else if (action.Update) this.wrote(action.Update.TableName!, action.Update.Key, true);
              else if (action.Delete) this.wrote(action.Delete.TableName!, action.Delete.Key, true);
              else if (action.ConditionCheck && action.ConditionCheck.TableName === this.tableName) {
                const { TableName, Key } = action.ConditionCheck;
                this.conditionChecks.push({
                  phase: this.phase,
                  item: this.reader
                    .send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))
                    .then((out) => out.Item ?? Key),
                });
              }
            }
            break;
        }
        return result;
      },
      { step: "build", name: "capacityRecorder" },
    );
  }

  async start(endpoint: string): Promise<void> {
    this.poller = new StreamPoller({
      endpoint,
      tableName: this.tableName,
      startAt: "TRIM_HORIZON",
      filter: null,
      intervalMs: 50,
      batchSize: 1000,
      functionName: "capacity-recorder",
      log: (line) => say(`  [recorder] ${line}`),
      handler: async (event) => {
        for (const record of event.Records) {
          const keys = normalizeImage(record.dynamodb?.Keys as Record<string, unknown> | undefined);
          this.records.push({ phase: this.phase, itemKey: this.itemKey(this.tableName, keys), record });
        }
      },
    });
    await this.poller.start();
  }

  /** Everything written so far has been read from the stream. */
  drained(): Promise<void> {
    return this.poller!.drained(60_000);
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
  }

  /** The stream's writes of `phase`, each with whether it was transactional. */
  writes(phase: (p: string) => boolean): ObservedWrite[] {
    const flags = matchTransactional(this.records, this.clientWrites);
    return this.records.flatMap((r, i) =>
      phase(r.phase)
        ? [
            {
              old: normalizeImage(r.record.dynamodb?.OldImage as Record<string, unknown> | undefined),
              new: normalizeImage(r.record.dynamodb?.NewImage as Record<string, unknown> | undefined),
              transactional: flags[i]!,
            },
          ]
        : [],
    );
  }

  /** Items whose count of stream records differs from the client's count of successful writes (no-op writes, TTL). */
  mismatchedItems(): number {
    const streamed = new Map<string, number>();
    for (const r of this.records) streamed.set(r.itemKey, (streamed.get(r.itemKey) ?? 0) + 1);
    let differ = 0;
    for (const [item, flags] of this.clientWrites) if ((streamed.get(item) ?? 0) !== flags.length) differ++;
    for (const item of streamed.keys()) if (!this.clientWrites.has(item)) differ++;
    return differ;
  }

  async checks(phase: (p: string) => boolean): Promise<(Item | undefined)[]> {
    return Promise.all(this.conditionChecks.filter((c) => phase(c.phase)).map((c) => c.item));
  }
}

/** A supplier endpoint on 127.0.0.1 that accepts every relay with 200. */
async function startSupplier(): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ accepted: true, supplierOrderId: `so-${ulid()}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Printing

const pad = (text: string | number, width: number) => String(text).padEnd(width);
const lpad = (text: string | number, width: number) => String(text).padStart(width);

function printCeilings(summary: CapacitySummary, indent = ""): void {
  const h = summary.hottest;
  if (h)
    say(
      `${indent}Modeled ceiling (spread-aware): ${summary.ceilingOrdersPerSecond} orders/s = 1,000 WCU/s / ${h.writeUnitsPerOrder} WCU per order on the hottest key (${h.index} ${h.keyPattern}: ${h.key}${
        h.groupWriteUnitsPerOrder !== undefined ? `; ${h.groupWriteUnitsPerOrder} WCU/order over the group` : ""
      }), before account quotas`,
    );
  const o = summary.observed.hottest;
  if (o)
    say(
      `${indent}Modeled ceiling (observed max of one key in this sample): ${summary.observed.ceilingOrdersPerSecond} orders/s = 1,000 / ${o.writeUnitsPerOrder} on ${o.index} ${o.key}`,
    );
}

function printHottest(summary: CapacitySummary, indent = "  "): void {
  say(
    `${indent}${pad("index", 7)} ${pad("key (spread keys: each shard at group total / shards)", 60)} ${lpad("WCU/order", 9)} ${lpad("group", 8)} ${lpad("obs. max", 9)}`,
  );
  for (const key of summary.hottestKeys)
    say(
      `${indent}${pad(key.index, 7)} ${pad(key.key.slice(0, 60), 60)} ${lpad(key.writeUnitsPerOrder.toFixed(3), 9)} ${lpad(key.groupWriteUnitsPerOrder?.toFixed(3) ?? "", 8)} ${lpad(key.observedMaxWriteUnitsPerOrder?.toFixed(3) ?? "", 9)}`,
    );
}

function printModel(summary: CapacitySummary): void {
  say(
    `\nWrite units per order, by partition-key pattern (${summary.orders} orders; table writes at 2x when transactional, index entries at 1x)`,
  );
  say(
    `  ${pad("index", 7)} ${pad("key pattern", 28)} ${lpad("keys", 5)} ${lpad("WCU/order", 9)}   ${pad("hottest key (spread-aware)", 40)} ${lpad("WCU/order", 9)}   ${pad("observed hottest key", 26)} ${lpad("WCU/order", 9)}`,
  );
  for (const row of summary.perPattern)
    say(
      `  ${pad(row.index, 7)} ${pad(row.pattern, 28)} ${lpad(row.keys, 5)} ${lpad(row.writeUnitsPerOrder.toFixed(3), 9)}   ${
        row.perEntity
          ? `(each key one order's/relay's: at most ${row.hottestKeyWriteUnits} WCU over its life)`
          : `${pad(row.hottestKey.slice(0, 40), 40)} ${lpad(row.hottestKeyWriteUnitsPerOrder.toFixed(3), 9)}   ${pad(row.observedHottestKey.slice(0, 26), 26)} ${lpad(row.observedHottestKeyWriteUnitsPerOrder.toFixed(3), 9)}`
      }`,
    );
  say(
    `  per index (all keys): ${Object.entries(summary.perIndex)
      .map(([index, units]) => `${index} ${units.toFixed(3)}`)
      .join(", ")}; total ${summary.totalWriteUnitsPerOrder.toFixed(3)} WCU/order`,
  );
  say(
    `\nHottest shared keys (write units per order; entity keys left out: their load does not grow with the order rate)`,
  );
  printHottest(summary);
  say("");
  printCeilings(summary);
  if (summary.ceilingAllKeys && summary.ceilingAllKeys.key !== summary.observed.hottest?.key)
    say(
      `  (counting entity keys as if shared, at this workload's size: ${summary.ceilingAllKeys.ceilingOrdersPerSecond} orders/s on ${summary.ceilingAllKeys.index} ${summary.ceilingAllKeys.key}, ${summary.ceilingAllKeys.writeUnitsPerOrder} WCU/order)`,
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Model workload

say(`bench:capacity on ${cpus().length} cpus: ${ORDERS} orders, ${USERS} users, ${SKUS} SKUs (Zipf)`);
const dynamo = await startDynamoLocal();
const supplier = await startSupplier();
setDb(undefined);
let runtime: LocalRuntime = await startLocalRuntime({
  port: 0,
  dynamoEndpoint: dynamo.endpoint,
  tableName: "capacity-model",
  scheduleIntervalMs: NO_SCHEDULE,
});
const reader = localClient(dynamo.endpoint);
const recorder = new Recorder(runtime.tableName, reader);
recorder.install(db().client);
await recorder.start(dynamo.endpoint);
let call = http(runtime.url);
say(`[${elapsed()}] local runtime at ${runtime.url}, supplier at ${supplier.url}`);

const shardNote: string[] = [];
/** The shards each SKU was given: the spread-aware estimate divides a SKU's writes over them. */
const skuShardCount = new Map<string, number>();
async function putStock(skuId: string, onHand: number, shards: number): Promise<number> {
  const applied = await putStockOnce(skuId, onHand, shards);
  skuShardCount.set(skuId, applied);
  return applied;
}
/** PUT inventory with shards; while shards are not built (400), without them. Returns the shards applied. */
async function putStockOnce(skuId: string, onHand: number, shards: number): Promise<number> {
  if (shards > 1) {
    const sharded = await call("PUT", `/internal/inventory/${skuId}`, { onHand, shards });
    if (sharded.status === 200) return Number(sharded.body?.shards ?? shards);
    if (sharded.status !== 400)
      throw new Error(`PUT inventory ${skuId} answered ${sharded.status}: ${JSON.stringify(sharded.body)}`);
    if (shardNote.length === 0)
      shardNote.push(
        `PUT /internal/inventory {shards} answered 400 (${JSON.stringify(sharded.body?.detail ?? sharded.body)}): stock set without shards`,
      );
  }
  const plain = await call("PUT", `/internal/inventory/${skuId}`, { onHand });
  if (plain.status !== 200)
    throw new Error(`PUT inventory ${skuId} answered ${plain.status}: ${JSON.stringify(plain.body)}`);
  return Number(plain.body?.shards ?? 1);
}

const skuId = (rank: number) => `sku-${String(rank).padStart(3, "0")}`;
const catalog = Array.from({ length: SKUS }, (_, rank) => ({
  skuId: skuId(rank),
  offerId: `off-${rank}`,
  unitPrice: 1000 + rank * 10,
}));
await pool(SKUS, CONCURRENCY, async (rank) => {
  const sku = catalog[rank]!;
  const offer = await call("PUT", `/internal/offers/${sku.skuId}`, {
    offerId: sku.offerId,
    unitPrice: sku.unitPrice,
    currency: "KRW",
    title: `Book ${rank}`,
  });
  if (offer.status !== 200) throw new Error(`PUT offer answered ${offer.status}: ${JSON.stringify(offer.body)}`);
  await putStock(sku.skuId, 1_000_000, shardsOf(rank));
});
for (let i = 0; i < SUPPLIERS; i++) {
  const put = await call("PUT", `/internal/suppliers/sup-${i}`, {
    name: `Supplier ${i}`,
    endpointUrl: `${supplier.url}/orders`,
  });
  if (put.status !== 200) throw new Error(`PUT supplier answered ${put.status}: ${JSON.stringify(put.body)}`);
}
for (let i = 0; i < LISTINGS; i++) {
  const put = await call("PUT", `/internal/listings/lst-${i}`, {
    sellerId: `seller-${i % 7}`,
    supplierId: `sup-${i % SUPPLIERS}`,
    supplierOfferId: `offer-${i}`,
    sellingPrice: 15000 + i * 100,
    currency: "KRW",
    channel: "smartstore",
    active: true,
  });
  if (put.status !== 200) throw new Error(`PUT listing answered ${put.status}: ${JSON.stringify(put.body)}`);
}
if (shardNote.length) say(`  note: ${shardNote[0]}`);
await recorder.drained();
say(
  `[${elapsed()}] seeded ${SKUS} SKUs (Zipf s=${ZIPF_S}; the ${HOT_SHARDED} hottest sharded: ${Array.from({ length: HOT_SHARDED }, (_, r) => shardsOf(r)).join(",")} shards), ${SUPPLIERS} suppliers, ${LISTINGS} listings`,
);

const skuRank = zipf(SKUS, ZIPF_S);
const listingRank = zipf(LISTINGS, 1.0);
const unexpected: string[] = [];
const note = (what: string, answer: Answer) => {
  if (unexpected.length < 20)
    unexpected.push(`${what}: ${answer.status} ${JSON.stringify(answer.body?.code ?? answer.body).slice(0, 160)}`);
};
/** The answers of the current workload (each workload starts its own). */
let tally: Record<string, number> = {};
const count = (what: string) => (tally[what] = (tally[what] ?? 0) + 1);

async function checkout(
  userId: string,
  lines: { skuId: string; offerId: string; unitPrice: number; qty: number }[],
): Promise<string | undefined> {
  const answer = await call("POST", "/api/v1/orders", {
    userId,
    idempotencyKey: `cap-${ulid()}`,
    items: lines,
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
  });
  if (answer.status !== 201) {
    note("checkout", answer);
    count(`checkout ${answer.status}`);
    return undefined;
  }
  count("checkout 201");
  return String(answer.body.orderId);
}

function randomLines(lines: number | undefined) {
  const n =
    lines ??
    pick<number>([
      [1, 40],
      [2, 25],
      [3, 15],
      [4, 10],
      [5, 10],
    ]);
  const ranks = new Set<number>();
  while (ranks.size < n) ranks.add(skuRank());
  return [...ranks].map((rank) => ({ ...catalog[rank]!, qty: rand() < 0.8 ? 1 : 2 }));
}

async function event(orderId: string, type: string): Promise<boolean> {
  const answer = await call("POST", `/internal/orders/${orderId}/events`, { type, externalId: `${type}-${orderId}` });
  if (answer.status !== 200) note(type, answer);
  count(`${type} ${answer.status}`);
  return answer.status === 200;
}

/**
 * A relay of a marketplace order (`ecommerceOrderId: null`): its own lifecycle, so the supplier events do not also
 * move one of the workload's orders (relay -> order status sync) while the bench drives that order itself.
 */
async function channelRelay(): Promise<void> {
  const listingId = `lst-${listingRank()}`;
  const created = await call("POST", "/internal/relays", {
    listingId,
    quantity: 1 + Math.floor(rand() * 3),
    externalOrderId: `ss-${ulid()}`,
    ecommerceOrderId: null,
    customerInfo: { name: "Kim Minji", phone: "010-1234-5678" },
    shippingInfo: { address: "1 Sejong-daero, Seoul", carrier: null, trackingNumber: null },
    metadata: { source: "smartstore" },
  });
  count(`relay create ${created.status}`);
  if (created.status !== 201) return note("relay create", created);
  const relayId = String(created.body.relayId);
  // The first dispatch is automatic (stream -> RELAY_CREATED -> dispatcher -> supplier).
  const deadline = Date.now() + 15_000;
  let status = String(created.body.status);
  while (status === "pending" && Date.now() < deadline) {
    await sleep(100);
    status = String((await call("GET", `/internal/relays/${relayId}`)).body?.status);
  }
  count(`relay ${status}`);
  if (status !== "relayed") return;
  const steps: [string, Record<string, unknown>][] = [["SUPPLIER_CONFIRMED", {}]];
  if (rand() < 0.7) steps.push(["SHIPPED", { shippingInfo: { carrier: "CJ", trackingNumber: `CJ-${ulid()}` } }]);
  if (steps.length === 2 && rand() < 0.7) steps.push(["DELIVERED", {}]);
  for (const [type, extra] of steps) {
    const answer = await call(
      "POST",
      `/internal/relays/${relayId}/events`,
      { type, ...extra },
      { "x-actor": "supplier-bench" },
    );
    count(`relay ${type} ${answer.status}`);
    if (answer.status !== 200) return note(`relay ${type}`, answer);
  }
}

interface WorkloadRun {
  phase: string;
  lifecycle: {
    created: number;
    paid: number;
    delivered: number;
    canceled: number;
    paymentFailed: number;
    relays: number;
    timeouts: number;
  };
  answers: Record<string, number>;
  /** Per SKU, the created orders that bought it. */
  ordersBySku: Map<string, number>;
}

const userOf = () => `user-${String(Math.floor(rand() * USERS)).padStart(3, "0")}`;

/** Checkouts of `lines` lines each (undefined: the 1..5 mix) by random users; each created order counts per SKU. */
function buyer(lines: number | undefined, ordersBySku: Map<string, number>): () => Promise<string | undefined> {
  return async () => {
    const items = randomLines(lines);
    const orderId = await checkout(userOf(), items);
    if (orderId) for (const item of items) ordersBySku.set(item.skuId, (ordersBySku.get(item.skuId) ?? 0) + 1);
    return orderId;
  };
}

/**
 * `orders` checkouts under ORDERLINE_PAYMENT_WINDOW_SECONDS=1, then the window back to an hour (and no grace) for
 * every checkout after them. Returns the orders created.
 */
async function unpaidCheckouts(orders: number, buy: () => Promise<string | undefined>): Promise<string[]> {
  process.env.ORDERLINE_PAYMENT_WINDOW_SECONDS = "1";
  reloadConfig();
  const created = (await pool(orders, CONCURRENCY, buy)).filter((id): id is string => id !== undefined);
  process.env.ORDERLINE_PAYMENT_WINDOW_SECONDS = "3600";
  process.env.ORDERLINE_PAYMENT_GRACE_SECONDS = "0";
  reloadConfig();
  return created;
}

/**
 * A created order's fate: a customer cancel (8 %), a failed payment (4 %), else paid (with a marketplace relay for
 * a quarter of them), shipped and delivered. A step that is not answered 200 ends the order where it is.
 */
async function driveOrder(orderId: string, lifecycle: WorkloadRun["lifecycle"]): Promise<void> {
  const fate = rand();
  if (fate < 0.08) {
    const answer = await call("POST", `/api/v1/orders/${orderId}/cancel`, { reason: "changed my mind" });
    count(`cancel ${answer.status}`);
    if (answer.status === 200) lifecycle.canceled++;
    else note("cancel", answer);
    return;
  }
  if (fate < 0.12) {
    if (await event(orderId, "PAYMENT_FAILED")) lifecycle.paymentFailed++;
    return;
  }
  if (!(await event(orderId, "PAYMENT_SUCCEEDED"))) return;
  lifecycle.paid++;
  if (rand() < 0.25) {
    lifecycle.relays++;
    await channelRelay();
  }
  for (const type of ["READY_TO_SHIP", "SHIPPED", "DELIVERED"]) if (!(await event(orderId, type))) return;
  lifecycle.delivered++;
}

/** The expiry job run over `unpaid`, whose windows closed long ago; returns how many of them it canceled. */
async function expireUnpaid(unpaid: string[]): Promise<number> {
  try {
    await runtime.runScheduledJob("ExpireUnpaidOrders");
  } catch (error) {
    say(`  ExpireUnpaidOrders failed: ${(error as Error).message}`);
  }
  const afterSweep = await pool(
    unpaid.length,
    CONCURRENCY,
    async (i) => (await call("GET", `/api/v1/orders/${unpaid[i]}`)).body?.status,
  );
  return afterSweep.filter((s) => s === "CANCELED").length;
}

/** `orders` checkouts of `lines` lines each (undefined: the 1..5 mix) through their lifecycles, recorded as `phase`. */
async function runWorkload(phase: string, orders: number, lines: number | undefined): Promise<WorkloadRun> {
  await recorder.drained();
  recorder.phase = phase;
  tally = {};
  const ordersBySku = new Map<string, number>();
  const buy = buyer(lines, ordersBySku);
  // Payment timeouts first: these checkouts get a 1-second window (the settings read again), the rest an hour.
  const timeoutOrders = Math.round(orders * TIMEOUT_SHARE);
  const timedOut = await unpaidCheckouts(timeoutOrders, buy);

  const lifecycle = {
    created: timedOut.length,
    paid: 0,
    delivered: 0,
    canceled: 0,
    paymentFailed: 0,
    relays: 0,
    timeouts: 0,
  };
  await pool(orders - timeoutOrders, CONCURRENCY, async () => {
    const orderId = await buy();
    if (!orderId) return;
    lifecycle.created++;
    await driveOrder(orderId, lifecycle);
  });
  say(
    `[${elapsed()}] ${phase}: ${JSON.stringify({ ...lifecycle, timeouts: undefined, unpaidLeftToTimeOut: timedOut.length })}`,
  );

  lifecycle.timeouts = await expireUnpaid(timedOut);
  say(
    `[${elapsed()}] expiry job: ${lifecycle.timeouts} of ${timedOut.length} unpaid orders canceled (PAYMENT_TIMEOUT)`,
  );
  await runtime.bus.idle();
  await recorder.drained();
  recorder.phase = "between";
  return { phase, lifecycle, answers: tally, ordersBySku };
}

const spec = tableSpec();
/** The index queues spread over `ShardCount` keys, by the key builders' prefixes. */
const indexPrefixes = [
  { prefix: keys.paymentDeadlinePrefix, shards: ShardCount.paymentDeadlines },
  { prefix: keys.relaysByStatusPrefix(""), shards: ShardCount.relaysByStatus },
  { prefix: keys.relaysByListingPrefix(""), shards: ShardCount.relaysByListing },
  { prefix: keys.relayQueuePrefix("RETRY"), shards: ShardCount.relayRetry },
  { prefix: keys.relayQueuePrefix("ATTENTION"), shards: ShardCount.relayRetry },
];
const spread = spreadOf({ skuShards: (id) => skuShardCount.get(id), indexPrefixes });

/**
 * The same with every catalog SKU at its known popularity (its Zipf share of all SKU writes), so that the tail's
 * few-hit SKUs are read at their expectation too. Exact for one-line orders; a multi-line order's SKUs are distinct,
 * which moves a little of the hottest SKUs' share to the tail.
 */
const zipfTotal = catalog.reduce((sum, _, rank) => sum + 1 / (rank + 1) ** ZIPF_S, 0);
const popularity = new Map(catalog.map((sku, rank) => [sku.skuId, 1 / (rank + 1) ** ZIPF_S / zipfTotal]));
const spreadByPopularity = spreadOf({
  skuShards: (id) => skuShardCount.get(id),
  indexPrefixes,
  skuShare: (id) => popularity.get(id),
});
function popularityAware(rows: KeyUnits[], orders: number) {
  const summary = summarize(rows, orders, { top: 5, spread: spreadByPopularity });
  return {
    ceilingOrdersPerSecond: summary.ceilingOrdersPerSecond,
    hottest: summary.hottest,
    hottestKeys: summary.hottestKeys,
  };
}
function printPopularityAware(figure: ReturnType<typeof popularityAware>, indent = ""): void {
  const h = figure.hottest;
  if (h)
    say(
      `${indent}Modeled ceiling (every SKU at its catalog popularity): ${figure.ceilingOrdersPerSecond} orders/s = 1,000 / ${h.writeUnitsPerOrder} on ${h.index} ${h.key}`,
    );
}

/** A SKU's table writes (every shard), for the SKU's stock-write figures. */
const skuUnits = (rows: KeyUnits[], id: string) =>
  rows
    .filter((r) => r.index === TABLE && (r.key === `SKU#${id}` || r.key.startsWith(`SKU#${id}#`)))
    .reduce((sum, r) => sum + r.units, 0);

/** The hottest SKU's stock writes per order that bought it, as the workload's mix of fates produced them. */
function hottestSkuPerOrder(rows: KeyUnits[], run: WorkloadRun) {
  const id = catalog[0]!.skuId;
  const orders = run.ordersBySku.get(id) ?? 0;
  const units = skuUnits(rows, id);
  return {
    skuId: id,
    shards: skuShardCount.get(id) ?? 1,
    ordersWithIt: orders,
    writeUnits: units,
    writeUnitsPerOrderWithIt: orders ? Number((units / orders).toFixed(3)) : undefined,
  };
}

function printUnexpected(): void {
  if (Object.keys(tally).length)
    say(
      `\nanswers: ${Object.entries(tally)
        .sort()
        .map(([k, v]) => `${k} x${v}`)
        .join(", ")}`,
    );
  if (unexpected.length) say(`unexpected answers (first ${unexpected.length}):\n  ${unexpected.join("\n  ")}`);
}

const mainRun = await runWorkload("workload", ORDERS, LINES);
const lifecycle = mainRun.lifecycle;
const workloadRows = unitsByKey(
  spec,
  recorder.writes((p) => p === "workload"),
  await recorder.checks((p) => p === "workload"),
);
const relaysCreated = mainRun.answers["relay create 201"] ?? 0;
const model = summarize(workloadRows, lifecycle.created, { top: 12, spread });
printModel(model);
const modelByPopularity = popularityAware(workloadRows, lifecycle.created);
printPopularityAware(modelByPopularity);
const mainHotSku = hottestSkuPerOrder(workloadRows, mainRun);
say(
  `  hottest SKU ${mainHotSku.skuId} (${mainHotSku.shards} shards): in ${mainHotSku.ordersWithIt} of ${lifecycle.created} orders, ${mainHotSku.writeUnitsPerOrderWithIt} WCU of stock writes per order that bought it`,
);
printUnexpected();

// 1b. The same lifecycle mix with one-line orders: what the issue's ceiling target is stated for.
let oneLine:
  | {
      orders: number;
      lifecycle: WorkloadRun["lifecycle"];
      answers: Record<string, number>;
      summary: CapacitySummary;
      byPopularity: ReturnType<typeof popularityAware>;
      hottestSku: ReturnType<typeof hottestSkuPerOrder>;
    }
  | undefined;
if (LINES === 1)
  oneLine = {
    orders: lifecycle.created,
    lifecycle,
    answers: mainRun.answers,
    summary: model,
    byPopularity: modelByPopularity,
    hottestSku: mainHotSku,
  };
else if (ONE_LINE_ORDERS > 0) {
  say(
    `\n[${elapsed()}] one-line workload: ${ONE_LINE_ORDERS} one-line orders, same users, SKUs, shards and lifecycle mix`,
  );
  const run = await runWorkload("one-line", ONE_LINE_ORDERS, 1);
  const rows = unitsByKey(
    spec,
    recorder.writes((p) => p === "one-line"),
    await recorder.checks((p) => p === "one-line"),
  );
  const summary = summarize(rows, run.lifecycle.created, { top: 8, spread });
  const hottestSku = hottestSkuPerOrder(rows, run);
  const byPopularity = popularityAware(rows, run.lifecycle.created);
  oneLine = {
    orders: run.lifecycle.created,
    lifecycle: run.lifecycle,
    answers: run.answers,
    summary,
    byPopularity,
    hottestSku,
  };
  say(
    `One-line orders: ${summary.totalWriteUnitsPerOrder} WCU per full-lifecycle order (${Object.entries(
      summary.perIndex,
    )
      .map(([index, units]) => `${index} ${units.toFixed(3)}`)
      .join(", ")}); hottest shared keys:`,
  );
  printHottest(summary);
  printCeilings(summary, "  ");
  printPopularityAware(byPopularity, "  ");
  say(
    `  hottest SKU ${hottestSku.skuId} (${hottestSku.shards} shards): in ${hottestSku.ordersWithIt} of ${run.lifecycle.created} orders, ${hottestSku.writeUnitsPerOrderWithIt} WCU of stock writes per order that bought it`,
  );
  printUnexpected();
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Isolated checkouts: 1, 5 and 50 lines of cold (unsharded) SKUs, one at a time on a quiet system

const writeUnitsPerCheckout: Record<string, number> = {};
const checkoutBreakdown: Record<string, Record<string, number>> = {};
for (const lines of [1, 5, 50]) {
  const phase = `checkout-${lines}`;
  await recorder.drained();
  recorder.phase = phase;
  const items = Array.from({ length: lines }, (_, j) => ({ ...catalog[(SKUS >> 1) + j]!, qty: 1 }));
  const orderId = await checkout(`iso-${lines}`, items);
  await recorder.drained();
  recorder.phase = "after";
  const rows = unitsByKey(
    spec,
    recorder.writes((p) => p === phase),
    await recorder.checks((p) => p === phase),
  );
  writeUnitsPerCheckout[String(lines)] = rows.reduce((sum, r) => sum + r.units, 0);
  const breakdown: Record<string, number> = {};
  for (const r of rows) breakdown[`${r.index} ${r.pattern}`] = (breakdown[`${r.index} ${r.pattern}`] ?? 0) + r.units;
  checkoutBreakdown[String(lines)] = breakdown;
  if (!orderId) say(`  the ${lines}-line checkout failed`);
}
say(`\nwriteUnitsPerCheckout (isolated checkouts, table + index writes):`);
for (const [lines, units] of Object.entries(writeUnitsPerCheckout))
  say(
    `  ${lpad(lines, 2)} line(s): ${lpad(units, 4)} WCU   (${Object.entries(checkoutBreakdown[lines]!)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")})`,
  );

// One SKU at ONE_SKU_SHARDS shards: a one-line order's stock writes over its life, shipped (reserve + consume) and
// canceled (reserve + release). Each shard is picked uniformly, so when every order buys this SKU one shard takes
// 1/shards of the costlier fate's writes per order.
const oneSkuItem = { skuId: "one-sku", offerId: "off-one-sku", unitPrice: 7000 };
{
  const offer = await call("PUT", `/internal/offers/${oneSkuItem.skuId}`, {
    offerId: oneSkuItem.offerId,
    unitPrice: oneSkuItem.unitPrice,
    currency: "KRW",
    title: "Book one",
  });
  if (offer.status !== 200) throw new Error(`PUT offer answered ${offer.status}: ${JSON.stringify(offer.body)}`);
}
const oneSkuShards = await putStock(oneSkuItem.skuId, 1_000_000, ONE_SKU_SHARDS);
const oneSkuFates: Record<string, number> = {};
for (const fate of ["shipped", "canceled"] as const) {
  const phase = `one-sku-${fate}`;
  await recorder.drained();
  recorder.phase = phase;
  const orderId = await checkout(`one-sku-${fate}`, [{ ...oneSkuItem, qty: 1 }]);
  if (orderId && fate === "shipped")
    for (const type of ["PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED", "DELIVERED"]) await event(orderId, type);
  if (orderId && fate === "canceled")
    await call("POST", `/api/v1/orders/${orderId}/cancel`, { reason: "changed my mind" });
  await runtime.bus.idle();
  await recorder.drained();
  recorder.phase = "after";
  if (!orderId) say(`  the one-SKU ${fate} order failed`);
  oneSkuFates[fate] = skuUnits(
    unitsByKey(
      spec,
      recorder.writes((p) => p === phase),
      await recorder.checks((p) => p === phase),
    ),
    oneSkuItem.skuId,
  );
}
const oneSkuPerOrder = Math.max(...Object.values(oneSkuFates));
const oneSku = {
  shards: oneSkuShards,
  skuWriteUnitsPerOrder: oneSkuFates,
  writeUnitsPerOrderPerShard: Number((oneSkuPerOrder / oneSkuShards).toFixed(4)),
  ceilingOrdersPerSecond: oneSkuPerOrder > 0 ? Math.floor((PARTITION_WCU * oneSkuShards) / oneSkuPerOrder) : undefined,
};
say(
  `\none SKU at ${oneSkuShards} shards: a one-line order writes ${Object.entries(oneSkuFates)
    .map(([fate, units]) => `${units} WCU (${fate})`)
    .join(
      ", ",
    )} on the SKU's shards -> ${oneSku.writeUnitsPerOrderPerShard} WCU per order on one shard -> ${oneSku.ceilingOrdersPerSecond} orders/s of that SKU`,
);

// Calibration: this machine's unthrottled checkout rate on one 8-shard SKU, to pick a limit that binds first.
recorder.phase = "calibration";
const calibrationSku = { skuId: "calibration", offerId: "off-calibration", unitPrice: 5000 };
await call("PUT", `/internal/offers/${calibrationSku.skuId}`, {
  offerId: calibrationSku.offerId,
  unitPrice: calibrationSku.unitPrice,
  currency: "KRW",
});
await putStock(calibrationSku.skuId, 1_000_000, 8);
const calibration = await closedLoop(calibrationSku, "calibration", 2);
const unthrottledPerSecond = calibration.created / calibration.seconds;
// 8 shards at the limit n ask for 8 x n/2 orders/s (a one-line checkout takes 2 units of its shard key).
const BURST_WCU = GIVEN_BURST_WCU ?? Math.max(4, Math.min(40, Math.round(unthrottledPerSecond / 6 / 4)));
say(
  `\n[${elapsed()}] calibration: ${unthrottledPerSecond.toFixed(1)} one-line checkouts/s unthrottled on one 8-shard SKU -> burst limit ${BURST_WCU} WCU/s per key${GIVEN_BURST_WCU ? " (given)" : ""}`,
);

const mismatched = recorder.mismatchedItems();
if (mismatched > 0)
  say(
    `  note: ${mismatched} items have a different number of stream records than successful client writes (transactional flags matched in order)`,
  );
await recorder.stop();
await runtime.stop();

// ---------------------------------------------------------------------------------------------------------------
// 3. Hot-SKU burst under the emulated partition limit

say(
  `\n[${elapsed()}] hot-SKU burst: ORDERLINE_LOCAL_PARTITION_WCU=${BURST_WCU}, ${BURST_CONCURRENCY} concurrent checkouts of one SKU for ${BURST_SECONDS} s, stock ${BURST_STOCK}`,
);
process.env.ORDERLINE_LOCAL_PARTITION_WCU = String(BURST_WCU);
// 503 CAPACITY_EXCEEDED is what the burst is about: the handlers' per-request error logs of it would bury the
// figures, so they are counted instead (the logger's level is per invocation, so it cannot be lowered from here).
let hiddenCapacityLogs = 0;
const restoreWrites = [process.stdout, process.stderr].map((stream) => {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (String(chunk).includes('"code":"CAPACITY_EXCEEDED"')) {
      hiddenCapacityLogs++;
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
  return () => (stream.write = write as typeof stream.write);
});
setDb(undefined);
runtime = await startLocalRuntime({
  port: 0,
  dynamoEndpoint: dynamo.endpoint,
  tableName: "capacity-burst",
  scheduleIntervalMs: NO_SCHEDULE,
});
call = http(runtime.url);

/** `BURST_CONCURRENCY` clients each sending one-line checkouts of `sku` (one new user per request) for `seconds`. */
async function closedLoop(sku: { skuId: string; offerId: string; unitPrice: number }, users: string, seconds: number) {
  const statuses: Record<string, number> = {};
  let created = 0;
  let createdQty = 0;
  let lastCreated = 0;
  let requests = 0;
  let soldOut: number | undefined;
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: BURST_CONCURRENCY }, async () => {
      while (performance.now() < stopAt) {
        const i = requests++;
        const answer = await call("POST", "/api/v1/orders", {
          userId: `${users}-${i}`,
          idempotencyKey: `${users}-${ulid()}`,
          items: [{ ...sku, qty: 1 }],
          currency: "KRW",
          shippingAddressId: "addr-1",
          paymentMethod: "CARD",
        });
        const label =
          answer.status === 409 || answer.status === 503
            ? `${answer.status} ${answer.body?.code ?? ""}`.trim()
            : String(answer.status);
        statuses[label] = (statuses[label] ?? 0) + 1;
        if (answer.status === 201) {
          created++;
          createdQty += 1;
          lastCreated = performance.now();
        } else if (answer.status === 409 && answer.body?.code === "OUT_OF_STOCK" && soldOut === undefined)
          soldOut = (performance.now() - t0) / 1000;
        else if (![201, 409, 503].includes(answer.status)) note(`${users} checkout`, answer);
      }
    }),
  );
  return {
    statuses,
    created,
    createdQty,
    lastCreated,
    requests,
    soldOut,
    seconds: (performance.now() - t0) / 1000,
    t0,
  };
}

interface BurstRun {
  shardsRequested: number;
  shards: number;
  requests: number;
  statuses: Record<string, number>;
  created: number;
  createdQty: number;
  stock: number;
  reservedAfter: number | undefined;
  oversold: number;
  seconds: number;
  soldOutAfterSeconds: number | undefined;
  ordersPerSecond: number;
  throttledRequests: number;
  /** The keys the limit throttled during the run, most often first. */
  throttledKeys: Record<string, number>;
}

async function burst(shards: number): Promise<BurstRun> {
  const sku = { skuId: `burst-${shards}`, offerId: `off-burst-${shards}`, unitPrice: 5000 };
  const offer = await call("PUT", `/internal/offers/${sku.skuId}`, {
    offerId: sku.offerId,
    unitPrice: sku.unitPrice,
    currency: "KRW",
  });
  if (offer.status !== 200) throw new Error(`PUT offer answered ${offer.status}`);
  const applied = await putStock(sku.skuId, BURST_STOCK, shards);
  await sleep(1100); // every key's one-second window starts empty
  const throttledBefore = runtime.partitionLimit?.stats().throttled ?? 0;
  const keysBefore = runtime.partitionLimit?.stats().throttledKeys ?? new Map<string, number>();
  const { statuses, created, createdQty, lastCreated, requests, soldOut, seconds, t0 } = await closedLoop(
    sku,
    `burst-${shards}`,
    BURST_SECONDS,
  );
  const stock = await call("GET", `/internal/inventory/${sku.skuId}`);
  const reservedAfter = typeof stock.body?.reserved === "number" ? stock.body.reserved : undefined;
  // Sold out: the rate while stock lasted (to the last order created), else over the whole burst.
  const window = soldOut !== undefined && lastCreated > t0 ? (lastCreated - t0) / 1000 : seconds;
  return {
    shardsRequested: shards,
    shards: applied,
    requests,
    statuses,
    created,
    createdQty,
    stock: BURST_STOCK,
    reservedAfter,
    oversold: Math.max(0, createdQty - BURST_STOCK, (reservedAfter ?? 0) - BURST_STOCK),
    seconds: Number(seconds.toFixed(2)),
    soldOutAfterSeconds: soldOut === undefined ? undefined : Number(soldOut.toFixed(2)),
    ordersPerSecond: Number((created / window).toFixed(1)),
    throttledRequests: (runtime.partitionLimit?.stats().throttled ?? 0) - throttledBefore,
    throttledKeys: Object.fromEntries(
      [...(runtime.partitionLimit?.stats().throttledKeys ?? new Map<string, number>())]
        .map(([key, n]) => [key, n - (keysBefore.get(key) ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8),
    ),
  };
}

const bursts: BurstRun[] = [];
for (const shards of [1, 8]) {
  const run = await burst(shards);
  bursts.push(run);
  say(
    `  ${shards} shard(s)${run.shards !== shards ? ` (applied: ${run.shards})` : ""}: ${run.ordersPerSecond} orders/s; ${run.requests} requests in ${run.seconds} s -> ${Object.entries(
      run.statuses,
    )
      .map(([s, n]) => `${s} x${n}`)
      .join(
        ", ",
      )}; created ${run.created} (qty ${run.createdQty}) of stock ${run.stock}, reserved after ${run.reservedAfter ?? "?"}${run.soldOutAfterSeconds !== undefined ? `, sold out after ${run.soldOutAfterSeconds} s` : ""}; oversold ${run.oversold}; ${run.throttledRequests} DynamoDB requests throttled${
      run.throttledRequests
        ? ` (${Object.entries(run.throttledKeys)
            .map(([k, n]) => `${k} x${n}`)
            .join(", ")})`
        : ""
    }`,
  );
}
const speedup =
  bursts[0]!.ordersPerSecond > 0
    ? Number((bursts[1]!.ordersPerSecond / bursts[0]!.ordersPerSecond).toFixed(2))
    : undefined;
for (const restore of restoreWrites) restore();
say(
  `  8 shards vs 1: ${speedup ?? "?"}x the orders/s (${hiddenCapacityLogs} handler error logs of CAPACITY_EXCEEDED not shown)`,
);
if (shardNote.length) say(`  note: ${shardNote[0]}`);

await runtime.stop();
await supplier.stop();
reader.destroy();
await dynamo.stop();
if (userWcu === undefined) delete process.env.ORDERLINE_LOCAL_PARTITION_WCU;

const perExtraLine =
  writeUnitsPerCheckout["5"] !== undefined && writeUnitsPerCheckout["1"] !== undefined
    ? (writeUnitsPerCheckout["5"] - writeUnitsPerCheckout["1"]) / 4
    : undefined;
const oneLineCeiling = oneLine?.summary.ceilingOrdersPerSecond;
say(`\nTargets (issue 8):`);
say(
  `  modeled ceiling, one-line full-lifecycle orders (spread-aware): ${oneLineCeiling ?? "not run"} orders/s (observed max: ${oneLine?.summary.observed.ceilingOrdersPerSecond ?? "-"}; SKUs at their popularity: ${oneLine?.byPopularity.ceilingOrdersPerSecond ?? "-"}); target >= 20,000`,
);
say(
  `  modeled ceiling, mixed 1..5-line orders (spread-aware): ${model.ceilingOrdersPerSecond} orders/s (observed max: ${model.observed.ceilingOrdersPerSecond}; SKUs at their popularity: ${modelByPopularity.ceilingOrdersPerSecond})`,
);
say(
  `  one-line checkout: ${writeUnitsPerCheckout["1"]} WCU (target <= 10); per extra line: ${perExtraLine} WCU (target <= 3)`,
);
say(`  one SKU at ${oneSku.shards} shards: ${oneSku.ceilingOrdersPerSecond} orders/s (target >= 5,000)`);
say(`  burst under the emulated limit: 8 shards ${speedup ?? "?"}x the orders/s of 1 (target >= 6x)`);

const result = {
  at: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  workload: {
    orders: ORDERS,
    users: USERS,
    skus: SKUS,
    zipfS: ZIPF_S,
    linesPerOrder: LINES ?? "1..5 (40/25/15/10/10 %)",
    shardsOfHottestSkus: Array.from({ length: HOT_SHARDED }, (_, r) => shardsOf(r)),
    listings: LISTINGS,
    lifecycle,
    relaysCreated,
    answers: mainRun.answers,
  },
  indexes: spec.indexes,
  /** Spread-aware: a key that is one of N uniformly picked shards at its group's total / N. */
  ceilingOrdersPerSecond: model.ceilingOrdersPerSecond,
  hottest: model.hottest,
  /** The most any one key took in this sample. */
  observed: model.observed,
  /** Every catalog SKU at its Zipf share of all SKU writes (the tail's few hits read at their expectation too). */
  popularityAware: modelByPopularity,
  ceilingAllKeys: model.ceilingAllKeys,
  writeUnitsPerOrder: model.totalWriteUnitsPerOrder,
  writeUnitsPerOrderByIndex: model.perIndex,
  hottestSku: mainHotSku,
  oneLineOrders: oneLine && {
    orders: oneLine.orders,
    lifecycle: oneLine.lifecycle,
    answers: oneLine.answers,
    ceilingOrdersPerSecond: oneLine.summary.ceilingOrdersPerSecond,
    hottest: oneLine.summary.hottest,
    observed: oneLine.summary.observed,
    popularityAware: oneLine.byPopularity,
    writeUnitsPerOrder: oneLine.summary.totalWriteUnitsPerOrder,
    writeUnitsPerOrderByIndex: oneLine.summary.perIndex,
    hottestKeys: oneLine.summary.hottestKeys,
    hottestSku: oneLine.hottestSku,
  },
  oneSku,
  writeUnitsPerCheckout,
  writeUnitsPerExtraLine: perExtraLine,
  checkoutBreakdown,
  perKeyPattern: model.perPattern,
  hottestKeys: model.hottestKeys,
  burst: {
    partitionWcu: BURST_WCU,
    calibratedUnthrottledOrdersPerSecond: Number(unthrottledPerSecond.toFixed(1)),
    seconds: BURST_SECONDS,
    concurrency: BURST_CONCURRENCY,
    runs: bursts,
    speedup8vs1: speedup,
  },
  notes: shardNote,
  itemsWithStreamClientMismatch: mismatched,
};
writeFileSync(new URL("./capacity.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
say(`\n[${elapsed()}] wrote bench/capacity.json`);
process.exit(0);
