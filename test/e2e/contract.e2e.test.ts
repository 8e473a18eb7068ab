import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { client, expectProblem, startTestRuntime } from "../support/runtime.js";

// Behaviours of ../shared/contract.md that no other suite pinned down, over HTTP on the local runtime.

let runtime: LocalRuntime;
let call: ReturnType<typeof client>;

const unique = (prefix: string) => `${prefix}-${ulid().toLowerCase()}`;

/** ISO 8601 in UTC, as the contract writes timestamps: `2026-11-24T10:00:00.000Z`. */
function expectIsoUtc(value: unknown, what: string) {
  expect(value, what).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  expect(Number.isNaN(Date.parse(value as string)), what).toBe(false);
}

async function seed(options: { onHand?: number; price?: number; offer?: boolean } = {}) {
  const skuId = unique("sku");
  const offerId = unique("off");
  const unitPrice = options.price ?? 12000;
  if (options.offer !== false)
    expect(
      (await call("PUT", `/internal/offers/${skuId}`, { offerId, unitPrice, currency: "KRW", title: "Book" })).status,
    ).toBe(200);
  expect((await call("PUT", `/internal/inventory/${skuId}`, { onHand: options.onHand ?? 10 })).status).toBe(200);
  return { skuId, offerId, unitPrice };
}

function checkout(sku: { skuId: string; offerId: string; unitPrice: number }, extra: Record<string, unknown> = {}) {
  return {
    userId: "u-contract",
    idempotencyKey: unique("k"),
    items: [{ skuId: sku.skuId, qty: 1, offerId: sku.offerId, unitPrice: sku.unitPrice }],
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
    ...extra,
  };
}

async function created(body: Record<string, unknown>) {
  const response = await call("POST", "/api/v1/orders", body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as Record<string, any>;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  call = client(runtime.url);
});

afterAll(async () => {
  await runtime?.stop();
});

describe("the order representation", () => {
  it("keeps the shippingAddress snapshot given in place of shippingAddressId, on create, read, list and replay", async () => {
    const sku = await seed();
    const address = { name: "Kim Minji", line1: "1 Sejong-daero", city: "Seoul", postalCode: "04524", country: "KR" };
    const { shippingAddressId: _none, ...withoutId } = checkout(sku, { userId: unique("u") });
    const request = { ...withoutId, shippingAddress: address };
    const order = await created(request);
    expect(order.shippingAddress).toEqual(address);
    expect(order.shippingAddressId ?? null).toBeNull();

    const read = await call("GET", `/api/v1/orders/${order.orderId}`);
    expect(read.status).toBe(200);
    expect(read.body.shippingAddress).toEqual(address);
    const listed = await call("GET", `/api/v1/orders?userId=${request.userId}`);
    expect(listed.body.items.map((o: Record<string, unknown>) => o.shippingAddress)).toEqual([address]);

    // The same address with its fields in another order is the same request: a replay, not a key reuse.
    const reordered = Object.fromEntries(Object.entries(address).reverse());
    const replay = await call("POST", "/api/v1/orders", { ...request, shippingAddress: reordered });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({ orderId: order.orderId, shippingAddress: address });
  });

  it("writes createdAt, updatedAt, paymentDueAt and every other timestamp as ISO 8601 UTC", async () => {
    const sku = await seed();
    const order = await created(checkout(sku));
    for (const field of ["createdAt", "updatedAt", "paymentDueAt"]) expectIsoUtc(order[field], field);
    expectIsoUtc(order.items[0].priceSnapshot.capturedAt, "priceSnapshot.capturedAt");
    expect(Date.parse(order.paymentDueAt)).toBeGreaterThan(Date.parse(order.createdAt));
    expect(order.updatedAt).toBe(order.createdAt);

    await new Promise((r) => setTimeout(r, 5));
    const cancelled = await call("POST", `/api/v1/orders/${order.orderId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expectIsoUtc(cancelled.body.createdAt, "createdAt after cancel");
    expectIsoUtc(cancelled.body.updatedAt, "updatedAt after cancel");
    expect(cancelled.body.createdAt).toBe(order.createdAt);
    expect(Date.parse(cancelled.body.updatedAt)).toBeGreaterThan(Date.parse(order.createdAt));

    const events = await call("GET", `/api/v1/orders/${order.orderId}/events`);
    for (const event of events.body.items) expectIsoUtc(event.createdAt, `${event.type}.createdAt`);
  });

  it("records the caller of the local runtime as `local` when no x-actor header is sent, else the header", async () => {
    const sku = await seed();
    const anonymous = await created(checkout(sku));
    expect((await call("POST", `/api/v1/orders/${anonymous.orderId}/cancel`, {})).status).toBe(200);
    const named = await created(checkout(sku));
    expect((await call("POST", `/api/v1/orders/${named.orderId}/cancel`, {}, { "x-actor": "ops-alice" })).status).toBe(
      200,
    );

    const actors = async (orderId: string) =>
      (await call("GET", `/api/v1/orders/${orderId}/events`)).body.items.map((e: { actor: string }) => e.actor);
    expect(new Set(await actors(anonymous.orderId))).toEqual(new Set(["local"]));
    expect(await actors(named.orderId)).toEqual(["local", "local", "local", "ops-alice", "ops-alice"]);
  });
});

describe("checkout refusals", () => {
  it("answers 409 OFFER_UNAVAILABLE naming the SKU without a current offer, and stores nothing", async () => {
    const offered = await seed();
    const bare = await seed({ offer: false });
    const request = {
      ...checkout(offered),
      items: [
        { skuId: offered.skuId, qty: 1, offerId: offered.offerId, unitPrice: offered.unitPrice },
        { skuId: bare.skuId, qty: 1, offerId: "off-gone", unitPrice: 100 },
      ],
    };
    const response = await call("POST", "/api/v1/orders", request);
    expectProblem(response, 409, "OFFER_UNAVAILABLE");
    expect(response.body.items).toEqual([{ skuId: bare.skuId }]);
    expect(response.body.detail).toContain(bare.skuId);

    expect((await call("GET", `/internal/inventory/${offered.skuId}`)).body).toMatchObject({
      reserved: 0,
      available: 10,
    });
    expect(
      (await call("GET", `/api/v1/orders?userId=${request.userId}&limit=100`)).body.items.map(
        (o: { idempotencyKey: string }) => o.idempotencyKey,
      ),
    ).not.toContain(request.idempotencyKey);
    // Nothing stored, its key included: the same key is free once the offer exists.
    expect(
      (await call("PUT", `/internal/offers/${bare.skuId}`, { offerId: "off-gone", unitPrice: 100, currency: "KRW" }))
        .status,
    ).toBe(200);
    expect((await call("POST", "/api/v1/orders", request)).status).toBe(201);
  });

  it("answers 409 IDEMPOTENCY_KEY_REUSED when a key used for one cart comes back with another cart", async () => {
    const sku = await seed();
    const userId = unique("u");
    const cartA = unique("cart");
    const cartB = unique("cart");
    for (const cartId of [cartA, cartB]) {
      const put = await call("PUT", `/internal/carts/${cartId}`, {
        userId,
        currency: "KRW",
        items: [{ skuId: sku.skuId, qty: 1, offerId: sku.offerId, unitPrice: sku.unitPrice }],
      });
      expect(put.status).toBe(200);
    }
    const { items: _items, ...base } = checkout(sku, { userId });
    const first = await created({ ...base, cartId: cartA });
    expect(first.cartId).toBe(cartA);

    // Same lines, same user, another cart: a different request.
    expectProblem(await call("POST", "/api/v1/orders", { ...base, cartId: cartB }), 409, "IDEMPOTENCY_KEY_REUSED");
    // The key is still the first cart's, and nothing was reserved for the refused request.
    const again = await call("POST", "/api/v1/orders", { ...base, cartId: cartA });
    expect(again.status).toBe(200);
    expect(again.body.orderId).toBe(first.orderId);
    expect((await call("GET", `/internal/inventory/${sku.skuId}`)).body).toMatchObject({ reserved: 1 });
    expect((await call("GET", `/api/v1/orders?userId=${userId}`)).body.items).toHaveLength(1);
  });
});

describe("reference data reads", () => {
  it("GET /internal/offers/{skuId} returns the current offer, title included only when the offer has one", async () => {
    const skuId = unique("sku");
    const put = await call("PUT", `/internal/offers/${skuId}`, {
      offerId: "off-1",
      unitPrice: 12000,
      currency: "KRW",
      title: "The Book",
    });
    expect(put.status).toBe(200);
    const read = await call("GET", `/internal/offers/${skuId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ skuId, offerId: "off-1", unitPrice: 12000, currency: "KRW", title: "The Book" });
    expectIsoUtc(read.body.updatedAt, "updatedAt");
    expect(read.body).toEqual(put.body);

    expect(
      (await call("PUT", `/internal/offers/${skuId}`, { offerId: "off-2", unitPrice: 9900, currency: "KRW" })).status,
    ).toBe(200);
    const current = await call("GET", `/internal/offers/${skuId}`);
    expect(current.body).toMatchObject({ skuId, offerId: "off-2", unitPrice: 9900, currency: "KRW" });
    expect(current.body).not.toHaveProperty("title");

    expectProblem(await call("GET", `/internal/offers/${unique("sku")}`), 404, "NOT_FOUND");
  });

  it("GET /internal/carts/{cartId} returns the stored cart snapshot", async () => {
    const cartId = unique("cart");
    const cart = {
      userId: "u-cart",
      currency: "KRW",
      items: [
        { skuId: "sku-a", qty: 2, offerId: "off-a", unitPrice: 1000 },
        { skuId: "sku-b", qty: 1, offerId: "off-b", unitPrice: 2500 },
      ],
    };
    const put = await call("PUT", `/internal/carts/${cartId}`, cart);
    expect(put.status).toBe(200);
    const read = await call("GET", `/internal/carts/${cartId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ cartId, ...cart });
    expectIsoUtc(read.body.updatedAt, "updatedAt");

    const replaced = { ...cart, items: [{ skuId: "sku-c", qty: 3, offerId: "off-c", unitPrice: 700 }] };
    expect((await call("PUT", `/internal/carts/${cartId}`, replaced)).status).toBe(200);
    expect((await call("GET", `/internal/carts/${cartId}`)).body.items).toEqual(replaced.items);

    const missing = await call("GET", `/internal/carts/${unique("cart")}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("lists: limit defaults to 20", () => {
  it("GET /api/v1/orders?userId= gives 20 orders per page by default, then the rest by cursor", async () => {
    const sku = await seed({ onHand: 100, price: 100 });
    const userId = unique("u");
    const ids: string[] = [];
    for (let i = 0; i < 21; i++) ids.push((await created(checkout(sku, { userId }))).orderId);

    const first = await call("GET", `/api/v1/orders?userId=${userId}`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(
      "GET",
      `/api/v1/orders?userId=${userId}&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    // Newest first, every order once.
    expect([...first.body.items, ...second.body.items].map((o: { orderId: string }) => o.orderId)).toEqual(
      [...ids].reverse(),
    );
    expect((await call("GET", `/api/v1/orders?userId=${userId}&limit=100`)).body.items).toHaveLength(21);
  });

  it("GET /api/v1/orders/{orderId}/events gives the whole history of an order on one default page", async () => {
    // The state machine allows at most 9 events per order, fewer than 20: a default below 9 fails here.
    const order = await created(checkout(await seed()));
    for (const type of ["PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED", "DELIVERED", "REFUND_REQUESTED", "REFUNDED"]) {
      const moved = await call("POST", `/internal/orders/${order.orderId}/events`, { type, externalId: `${type}-1` });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }
    const events = await call("GET", `/api/v1/orders/${order.orderId}/events`);
    expect(events.body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.body.nextCursor).toBeNull();
    const paged = await call("GET", `/api/v1/orders/${order.orderId}/events?limit=4`);
    expect(paged.body.items).toHaveLength(4);
    expect(paged.body.nextCursor).toEqual(expect.any(String));
  });

  it("GET /_local/events gives 20 events per page by default", async () => {
    const sku = await seed({ onHand: 100, price: 100 });
    for (let i = 0; i < 21; i++) await created(checkout(sku));
    const query = "source=orderline.orders&detailType=ORDER_CREATED";
    const deadline = Date.now() + 15_000;
    while ((await call("GET", `/_local/events?${query}&limit=100`)).body.items.length < 21) {
      if (Date.now() > deadline) throw new Error("the ORDER_CREATED events did not reach the local bus");
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await call("GET", `/_local/events?${query}`);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(20);
    expect(page.body.nextCursor).toEqual(expect.any(String));
  });
});
