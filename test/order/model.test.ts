import fc from "fast-check";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { Catalog } from "../../core/catalog/index.js";
import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { orderEventsFromItem } from "../../core/order/model.js";
import { scanTable, who } from "../support/fixtures.js";
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
  skuIds: string[];
  offerIds: string[];
}

const SKUS = 3;
const ON_HAND = 6;

async function codeOf<T>(promise: Promise<T>): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

class CheckoutCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: number, readonly lines: [number, number][]) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const key = `${real.run}-k${this.key}`;
    // The service compares requests by content, whatever the line order.
    const signature = JSON.stringify([...this.lines].sort(([a], [b]) => a - b));
    const input = {
      userId: "model-user",
      idempotencyKey: key,
      items: this.lines.map(([sku, qty]) => ({ skuId: real.skuIds[sku]!, qty, offerId: real.offerIds[sku]!, unitPrice: 100 })),
      currency: "KRW",
      shippingAddressId: "a",
      paymentMethod: "CARD",
    };
    const result = await codeOf(Order.checkout(input, who));
    const used = model.keys.get(key);
    if (used) {
      if (used.signature === signature) expect(typeof result === "object" && result.replayed && result.order.orderId).toBe(used.orderId);
      else expect(result).toBe("IDEMPOTENCY_KEY_REUSED");
      return;
    }
    const fits = this.lines.every(([sku, qty]) => model.onHand[sku]! - model.reserved[sku]! >= qty);
    if (!fits) {
      expect(result).toBe("OUT_OF_STOCK");
      return;
    }
    expect(typeof result).toBe("object");
    const { order } = result as { order: { orderId: string } };
    for (const [sku, qty] of this.lines) model.reserved[sku]! += qty;
    model.keys.set(key, { signature, orderId: order.orderId });
    model.orders.push({ orderId: order.orderId, status: "PAYMENT_PENDING", lines: this.lines });
    await assertStock(model, real);
  }
  toString = () => `checkout(k${this.key}, ${JSON.stringify(this.lines)})`;
}

class OrderCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly action: "cancel" | "PAYMENT_SUCCEEDED" | "PAYMENT_FAILED" | "SHIPPED") {}
  check = (model: Readonly<Model>) => model.orders.length > 0;
  async run(model: Model, real: Real) {
    const order = model.orders[this.pick % model.orders.length]!;
    const result =
      this.action === "cancel"
        ? await codeOf(Order.cancel(order.orderId, {}, who))
        : this.action === "SHIPPED"
          ? await codeOf(
              (async () => {
                await Order.applyExternalEvent(order.orderId, { type: "READY_TO_SHIP" }, who);
                return Order.applyExternalEvent(order.orderId, { type: "SHIPPED" }, who);
              })(),
            )
          : await codeOf(Order.applyExternalEvent(order.orderId, { type: this.action }, who));
    const release = () => order.lines.forEach(([sku, qty]) => (model.reserved[sku]! -= qty));
    const s = order.status;
    if (this.action === "cancel") {
      if (s === "PAYMENT_PENDING") (release(), (order.status = "CANCELED"));
      else if (s !== "CANCELED") expect(result).toBe("INVALID_TRANSITION");
    } else if (this.action === "PAYMENT_SUCCEEDED") {
      if (s === "PAYMENT_PENDING") order.status = "PAID";
      else expect(result).toBe("INVALID_TRANSITION");
    } else if (this.action === "PAYMENT_FAILED") {
      if (s === "PAYMENT_PENDING") (release(), (order.status = "CANCELED"));
      else expect(result).toBe("INVALID_TRANSITION");
    } else if (s === "PAID") {
      order.lines.forEach(([sku, qty]) => ((model.reserved[sku]! -= qty), (model.onHand[sku]! -= qty)));
      order.status = "SHIPPED";
    } else expect(result).toBe("INVALID_TRANSITION");
    if (typeof result === "object") expect(result.order.status).toBe(order.status);
    await assertStock(model, real);
  }
  toString = () => `${this.action}(#${this.pick})`;
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

/** The invariants, checked against what DynamoDB holds. */
async function assertInvariants(model: Model, real: Real) {
  const items = await scanTable();
  const orders = items.filter((i) => i.entity === "Order" && String(i.idempotencyKey).startsWith(real.run));
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
  const perKey = new Map<string, number>();
  for (const o of orders) perKey.set(String(o.idempotencyKey), (perKey.get(String(o.idempotencyKey)) ?? 0) + 1);
  expect([...perKey.values()].every((n) => n === 1)).toBe(true);
  for (const o of orders) {
    const seqs = items
      .filter((i) => i.entity === "OrderEvent" && i.orderId === o.orderId)
      .flatMap((i) => orderEventsFromItem(i).map((e) => e.seq))
      .sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs.length).toBe(Number(o.version));
  }
}

const line = fc.tuple(fc.integer({ min: 0, max: SKUS - 1 }), fc.integer({ min: 1, max: 3 }));
const commands = [
  fc
    .tuple(fc.integer({ min: 0, max: 4 }), fc.uniqueArray(line, { minLength: 1, maxLength: SKUS, selector: ([sku]) => sku }))
    .map(([key, lines]) => new CheckoutCommand(key, lines)),
  fc.tuple(fc.nat(), fc.constantFrom("cancel", "PAYMENT_SUCCEEDED", "PAYMENT_FAILED", "SHIPPED") as fc.Arbitrary<OrderCommand["action"]>).map(
    ([pick, action]) => new OrderCommand(pick, action),
  ),
];

beforeAll(async () => {
  await freshTable("model");
});

describe("model-based: checkout, cancel and payment events against an in-memory model", () => {
  it("never oversells, keeps reserved equal to live reservations, one order per key, gapless events", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        runs++;
        const real: Real = { run: `m${ulid().toLowerCase()}`, skuIds: [], offerIds: [] };
        for (let sku = 0; sku < SKUS; sku++) {
          real.skuIds.push(`${real.run}-sku${sku}`);
          real.offerIds.push(`${real.run}-off${sku}`);
          await Catalog.putOffer(real.skuIds[sku]!, { offerId: real.offerIds[sku]!, unitPrice: 100, currency: "KRW" });
          await Catalog.setStock(real.skuIds[sku]!, { onHand: ON_HAND });
        }
        const model: Model = { onHand: Array(SKUS).fill(ON_HAND), reserved: Array(SKUS).fill(0), keys: new Map(), orders: [] };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await assertInvariants(model, real);
      }),
      { numRuns: 25 },
    );
    console.log(`model-based test: ${runs} command sequences checked`);
  });
});
