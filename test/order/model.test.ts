import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { orderEventsFromItem } from "../../core/order/model.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

/** The in-memory model: what the table should hold after each command. */
interface Model {
  onHand: number[];
  reserved: number[];
  keys: Map<string, { signature: string; orderId: string }>;
  orders: { orderId: string; status: string; lines: [number, number][] }[];
}

interface Real {
  run: string;
  userId: string;
  skuIds: string[];
  offerIds: string[];
  /** Decides in which order the operations of a concurrent command start. */
  s: fc.Scheduler;
}

/** What one call answered: the order it returned, or the domain error code it failed with. */
type Outcome = { code: "OK"; orderId: string; status: string; replayed: boolean } | { code: string };

/**
 * One operation bound to its target, ready to run. `step` checks that `outcome` is what the model predicts from
 * `model`'s state and applies it to `model`; it answers why not otherwise (the model is then garbage).
 */
interface Bound {
  label: string;
  exec(): Promise<Outcome>;
  step(model: Model, outcome: Outcome, concurrent: boolean): string | undefined;
}

interface Op {
  /** Binds the operation to the model's state when it is issued; undefined when it has nothing to act on. */
  bind(model: Readonly<Model>, real: Real): Bound | undefined;
  toString(): string;
}

const SKUS = 3;
const ON_HAND = 6;
const NUM_RUNS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stats = { concurrentCommands: 0, reordered: 0, retryable: 0 };

async function outcomeOf(
  promise: Promise<{ order: { orderId: string; status: string }; replayed?: boolean }>,
): Promise<Outcome> {
  try {
    const { order, replayed } = await promise;
    return { code: "OK", orderId: order.orderId, status: order.status, replayed: replayed ?? false };
  } catch (error) {
    // Anything but a domain error (a 5xx over HTTP) fails the property.
    if (error instanceof DomainError) return { code: error.code };
    throw error;
  }
}

/**
 * CONCURRENT_MODIFICATION is the contract's retryable answer (nothing written) once optimistic retries are spent;
 * only requests racing each other may get it.
 */
function retryable(outcome: Outcome, concurrent: boolean): boolean {
  if (outcome.code !== "CONCURRENT_MODIFICATION" || !concurrent) return false;
  stats.retryable++;
  return true;
}

class CheckoutOp implements Op {
  constructor(
    readonly key: number,
    readonly lines: [number, number][],
  ) {}
  bind(_model: Readonly<Model>, real: Real): Bound {
    const key = `${real.run}-k${this.key}`;
    // The service compares requests by content, whatever the line order.
    const signature = JSON.stringify([...this.lines].sort(([a], [b]) => a - b));
    const input = {
      userId: real.userId,
      idempotencyKey: key,
      items: this.lines.map(([sku, qty]) => ({
        skuId: real.skuIds[sku]!,
        qty,
        offerId: real.offerIds[sku]!,
        unitPrice: 100,
      })),
      currency: "KRW",
      shippingAddressId: "a",
      paymentMethod: "CARD",
    };
    const lines = this.lines;
    return {
      label: this.toString(),
      exec: () => outcomeOf(Order.checkout(input, who)),
      step(model, outcome, concurrent) {
        if (retryable(outcome, concurrent)) return undefined;
        const used = model.keys.get(key);
        if (used) {
          if (used.signature !== signature)
            return outcome.code === "IDEMPOTENCY_KEY_REUSED"
              ? undefined
              : `expected IDEMPOTENCY_KEY_REUSED, got ${JSON.stringify(outcome)}`;
          return outcome.code === "OK" && "orderId" in outcome && outcome.replayed && outcome.orderId === used.orderId
            ? undefined
            : `expected a replay of ${used.orderId}, got ${JSON.stringify(outcome)}`;
        }
        const fits = lines.every(([sku, qty]) => model.onHand[sku]! - model.reserved[sku]! >= qty);
        if (!fits)
          return outcome.code === "OUT_OF_STOCK" ? undefined : `expected OUT_OF_STOCK, got ${JSON.stringify(outcome)}`;
        if (
          outcome.code !== "OK" ||
          !("orderId" in outcome) ||
          outcome.replayed ||
          outcome.status !== "PAYMENT_PENDING"
        )
          return `expected a new PAYMENT_PENDING order, got ${JSON.stringify(outcome)}`;
        if (model.orders.some((o) => o.orderId === outcome.orderId)) return `order id ${outcome.orderId} given twice`;
        for (const [sku, qty] of lines) model.reserved[sku]! += qty;
        model.keys.set(key, { signature, orderId: outcome.orderId });
        model.orders.push({ orderId: outcome.orderId, status: "PAYMENT_PENDING", lines });
        return undefined;
      },
    };
  }
  toString = () => `checkout(k${this.key}, ${JSON.stringify(this.lines)})`;
}

type Action = "cancel" | "PAYMENT_SUCCEEDED" | "PAYMENT_FAILED" | "SHIPPED";

class TransitionOp implements Op {
  constructor(
    readonly pick: number,
    readonly action: Action,
  ) {}
  bind(model: Readonly<Model>): Bound | undefined {
    if (model.orders.length === 0) return undefined;
    const orderId = model.orders[this.pick % model.orders.length]!.orderId;
    const action = this.action;
    return {
      label: `${action}(${orderId.slice(-6)})`,
      exec: () =>
        outcomeOf(
          action === "cancel"
            ? Order.cancel(orderId, {}, who)
            : action === "SHIPPED"
              ? (async () => {
                  // Two calls: only another SHIPPED can observe READY_TO_SHIP in between, and it fails there as
                  // it would on SHIPPED, so the pair still behaves as one step of the model.
                  await Order.applyExternalEvent(orderId, { type: "READY_TO_SHIP" }, who);
                  return Order.applyExternalEvent(orderId, { type: "SHIPPED" }, who);
                })()
              : Order.applyExternalEvent(orderId, { type: action }, who),
        ),
      step(model, outcome, concurrent) {
        if (retryable(outcome, concurrent)) return undefined;
        const order = model.orders.find((o) => o.orderId === orderId)!;
        const release = () => {
          for (const [sku, qty] of order.lines) model.reserved[sku]! -= qty;
        };
        const s = order.status;
        let next: string | undefined;
        if (action === "cancel") {
          if (s === "PAYMENT_PENDING") {
            release();
            next = "CANCELED";
          } else if (s === "CANCELED") next = "CANCELED";
        } else if (action === "PAYMENT_SUCCEEDED") {
          if (s === "PAYMENT_PENDING") next = "PAID";
        } else if (action === "PAYMENT_FAILED") {
          if (s === "PAYMENT_PENDING") {
            release();
            next = "CANCELED";
          }
        } else if (s === "PAID") {
          for (const [sku, qty] of order.lines) {
            model.reserved[sku]! -= qty;
            model.onHand[sku]! -= qty;
          }
          next = "SHIPPED";
        }
        if (next === undefined)
          return outcome.code === "INVALID_TRANSITION"
            ? undefined
            : `${action} from ${s}: expected INVALID_TRANSITION, got ${JSON.stringify(outcome)}`;
        order.status = next;
        return outcome.code === "OK" && "status" in outcome && outcome.status === next
          ? undefined
          : `${action} from ${s}: expected ${next}, got ${JSON.stringify(outcome)}`;
      },
    };
  }
  toString = () => `${this.action}(#${this.pick})`;
}

/** One operation at a time, checked against the model's single prediction. */
class SingleCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly op: Op) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const bound = this.op.bind(model, real);
    if (!bound) return;
    const outcome = await bound.exec();
    const wrong = bound.step(model, outcome, false);
    if (wrong) throw new Error(`${bound.label}: ${wrong}`);
    await assertStock(model, real);
  }
  toString = () => this.op.toString();
}

/** Every order of n operations (few: at most 4! = 24). */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

/**
 * Several operations in flight at once against DynamoDB Local. The scheduler picks the order in which they start
 * (with a few milliseconds between starts, so some overlap fully and some barely); after that they race for real.
 * The answers must be linearizable: some serial order of the operations gives exactly these answers in the model,
 * and the model continues from that order's state.
 */
class ConcurrentCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly ops: Op[],
    readonly gaps: number[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const bound = this.ops.map((op) => op.bind(model, real)).filter((b): b is Bound => b !== undefined);
    if (bound.length === 0) return;
    stats.concurrentCommands++;
    const started: number[] = [];
    const running = bound.map((b, i) =>
      real.s.schedule(Promise.resolve(), `start ${b.label}`).then(() => {
        started.push(i);
        return b.exec();
      }),
    );
    let gap = 0;
    await real.s.waitAll(async (release) => {
      await release();
      await sleep(this.gaps[gap++ % this.gaps.length]!);
    });
    const outcomes = await Promise.all(running);
    const reasons: string[] = [];
    // The start order first: another order is needed only when the race was won out of turn.
    const orders = [started, ...permutations(bound.length).filter((o) => o.some((i, k) => i !== started[k]))];
    for (const order of orders) {
      const candidate = structuredClone(model);
      const wrong = order.map((i) => bound[i]!.step(candidate, outcomes[i]!, true)).find((r) => r !== undefined);
      if (wrong === undefined) {
        Object.assign(model, candidate);
        if (order.some((i, k) => i !== started[k])) stats.reordered++;
        await assertStock(model, real);
        return;
      }
      reasons.push(`${order.map((i) => bound[i]!.label).join(" -> ")}: ${wrong}`);
    }
    throw new Error(
      `no serial order explains the answers of ${bound.map((b, i) => `${b.label} = ${JSON.stringify(outcomes[i])}`).join(", ")}\n${reasons.join("\n")}`,
    );
  }
  toString = () => `concurrently[${this.ops.join(", ")}] gaps ${JSON.stringify(this.gaps)}`;
}

/** After every command: each SKU's counters in DynamoDB equal the model's, and nothing is oversold. */
async function assertStock(model: Model, real: Real) {
  for (let sku = 0; sku < SKUS; sku++) {
    const stock = await Catalog.getStock(real.skuIds[sku]!);
    expect(stock.reserved).toBe(model.reserved[sku]);
    expect(stock.onHand).toBe(model.onHand[sku]);
    expect(stock.reserved).toBeLessThanOrEqual(stock.onHand);
  }
}

/**
 * The invariants, checked against what DynamoDB holds for this sequence: its orders (the run's own user, so no
 * scan of the growing shared table), their items and events, and the idempotency items of its keys.
 */
async function assertInvariants(model: Model, real: Real) {
  const { doc, tableName } = db();
  const refs = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :u",
      ExpressionAttributeValues: { ":u": keys.ordersByUser(real.userId) },
    }),
  );
  const orders: Record<string, unknown>[] = [];
  const events = new Map<string, Record<string, unknown>[]>();
  for (const ref of refs.Items ?? []) {
    const partition = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": ref.pk },
        ConsistentRead: true,
      }),
    );
    const items = partition.Items ?? [];
    const order = items.find((i) => i.sk === "ORDER")!;
    orders.push(order);
    events.set(
      String(order.orderId),
      items.filter((i) => String(i.sk).startsWith(keys.orderEventPrefix)),
    );
  }
  expect(orders.map((o) => o.orderId).sort()).toEqual(model.orders.map((o) => o.orderId).sort());

  for (let sku = 0; sku < SKUS; sku++) {
    const stock = await Catalog.getStock(real.skuIds[sku]!);
    const held = orders
      .filter((o) => o.reservationStatus === "HELD")
      .flatMap((o) => o.items as { skuId: string; qty: number }[])
      .filter((l) => l.skuId === real.skuIds[sku])
      .reduce((sum, l) => sum + l.qty, 0);
    expect(stock.reserved).toBe(held);
    expect(stock.reserved).toBe(model.reserved[sku]);
    expect(stock.onHand).toBe(model.onHand[sku]);
    expect(stock.reserved).toBeLessThanOrEqual(stock.onHand);
  }

  // One order per key: no two orders carry a key, and each used key's item names the model's order.
  const perKey = new Map<string, number>();
  for (const o of orders) perKey.set(String(o.idempotencyKey), (perKey.get(String(o.idempotencyKey)) ?? 0) + 1);
  expect([...perKey.values()].every((n) => n === 1)).toBe(true);
  for (const [key, { orderId }] of model.keys) {
    const stored = await doc.send(
      new GetCommand({ TableName: tableName, Key: keys.idempotency(key), ConsistentRead: true }),
    );
    expect(stored.Item?.orderId).toBe(orderId);
  }

  for (const o of orders) {
    const seqs = (events.get(String(o.orderId)) ?? [])
      .flatMap((i) => orderEventsFromItem(i).map((e) => e.seq))
      .sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs.length).toBe(Number(o.version));
    expect(o.status).toBe(model.orders.find((m) => m.orderId === o.orderId)!.status);
  }
}

const line = fc.tuple(fc.integer({ min: 0, max: SKUS - 1 }), fc.integer({ min: 1, max: 3 }));
const checkoutOp = fc
  .tuple(
    fc.integer({ min: 0, max: 4 }),
    fc.uniqueArray(line, { minLength: 1, maxLength: SKUS, selector: ([sku]) => sku }),
  )
  .map(([key, lines]): Op => new CheckoutOp(key, lines));
const transitionOp = fc
  .tuple(fc.nat(), fc.constantFrom<Action>("cancel", "PAYMENT_SUCCEEDED", "PAYMENT_FAILED", "SHIPPED"))
  .map(([pick, action]): Op => new TransitionOp(pick, action));
const commands: fc.Arbitrary<fc.AsyncCommand<Model, Real>>[] = [
  checkoutOp.map((op) => new SingleCommand(op)),
  transitionOp.map((op) => new SingleCommand(op)),
];
// Mostly no gap between starts (the calls overlap on the server), sometimes a little (one gets a head start).
const concurrent = fc
  .tuple(
    fc.array(fc.oneof(checkoutOp, transitionOp), { minLength: 2, maxLength: 4 }),
    fc.array(fc.constantFrom(0, 0, 0, 1, 3), { minLength: 1, maxLength: 4 }),
  )
  .map(([ops, gaps]) => new ConcurrentCommand(ops, gaps));
// Listed twice: half of the commands are concurrent.
commands.push(concurrent, concurrent);

beforeAll(async () => {
  await freshTable("model");
});

describe("model-based: checkout, cancel and payment events against an in-memory model", () => {
  it("never oversells, keeps reserved equal to live reservations, one order per key, gapless events, also under concurrent commands", async () => {
    let runs = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands(commands, { maxCommands: 20 }), async (s, cmds) => {
        runs++;
        const run = `m${ulid().toLowerCase()}`;
        const real: Real = { run, userId: `${run}-user`, skuIds: [], offerIds: [], s };
        for (let sku = 0; sku < SKUS; sku++) {
          real.skuIds.push(`${real.run}-sku${sku}`);
          real.offerIds.push(`${real.run}-off${sku}`);
          await Catalog.putOffer(real.skuIds[sku]!, { offerId: real.offerIds[sku]!, unitPrice: 100, currency: "KRW" });
          await Catalog.setStock(real.skuIds[sku]!, { onHand: ON_HAND });
        }
        const model: Model = {
          onHand: Array(SKUS).fill(ON_HAND),
          reserved: Array(SKUS).fill(0),
          keys: new Map(),
          orders: [],
        };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await assertInvariants(model, real);
      }),
      { numRuns: NUM_RUNS },
    );
    console.log(
      `model-based test: ${runs} command sequences in ${Date.now() - started} ms; ${stats.concurrentCommands} concurrent commands, ` +
        `${stats.reordered} explained only by a serial order other than their start order, ${stats.retryable} retryable answers`,
    );
    // The concurrent commands must actually have run (a generator change could otherwise silently drop them).
    expect(stats.concurrentCommands).toBeGreaterThan(NUM_RUNS);
  });
});
