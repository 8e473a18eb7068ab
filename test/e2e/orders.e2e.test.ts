import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { client, expectProblem, startTestRuntime } from "../support/runtime.js";

let runtime: LocalRuntime;
let call: ReturnType<typeof client>;
let n = 0;

async function seed(onHand = 10, price = 12000) {
  const skuId = `sku-e2e-${++n}`;
  const offerId = `off-${n}`;
  expect(
    (await call("PUT", `/internal/offers/${skuId}`, { offerId, unitPrice: price, currency: "KRW", title: "Book" }))
      .status,
  ).toBe(200);
  expect((await call("PUT", `/internal/inventory/${skuId}`, { onHand })).status).toBe(200);
  return { skuId, offerId, unitPrice: price };
}

function body(sku: { skuId: string; offerId: string; unitPrice: number }, extra: Record<string, unknown> = {}) {
  return {
    userId: "u-e2e",
    idempotencyKey: `k-${++n}`,
    items: [{ skuId: sku.skuId, qty: 1, offerId: sku.offerId, unitPrice: sku.unitPrice }],
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
    ...extra,
  };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  call = client(runtime.url);
});

afterAll(async () => {
  await runtime.stop();
});

describe("order API over HTTP", () => {
  it("answers /health when ready", async () => {
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
  });

  it("puts an x-request-id on every response, the gateway's own answers included", async () => {
    for (const [method, path] of [
      ["GET", "/health"],
      ["GET", "/no/such/route"],
      ["GET", "/api/v1/orders/01UNKNOWN"],
      ["GET", "/openapi.json"],
    ] as const) {
      const response = await call(method, path);
      expect(response.headers.get("x-request-id"), path).toMatch(/^[0-9A-Z]{26}$/);
      expect(
        (await call(method, path, undefined, { "x-request-id": "mine-1" })).headers.get("x-request-id"),
        path,
      ).toBe("mine-1");
    }
  });

  it("checks out, reads, lists, cancels, and echoes x-request-id", async () => {
    const sku = await seed(5);
    const created = await call("POST", "/api/v1/orders", body(sku), { "x-request-id": "req-abc" });
    expect(created.status).toBe(201);
    expect(created.headers.get("x-request-id")).toBe("req-abc");
    const orderId = created.body.orderId as string;
    expect((await call("GET", `/api/v1/orders/${orderId}`)).body).toEqual(created.body);
    const list = await call("GET", "/api/v1/orders?userId=u-e2e&limit=1");
    expect(list.body.items[0].orderId).toBe(orderId);
    const events = await call("GET", `/api/v1/orders/${orderId}/events`);
    expect(events.body.items.map((e: any) => e.seq)).toEqual([1, 2, 3]);
    expect(events.body.items[0].requestId).toBe("req-abc");
    const canceled = await call("POST", `/api/v1/orders/${orderId}/cancel`, { reason: "test" });
    expect(canceled.body.status).toBe("CANCELED");
    expect((await call("GET", `/internal/inventory/${sku.skuId}`)).body).toEqual({
      skuId: sku.skuId,
      onHand: 5,
      reserved: 0,
      available: 5,
      shards: 1,
    });
    expect((await call("POST", `/api/v1/orders/${orderId}/cancel`)).status).toBe(200);
  });

  it("takes the idempotency key from the header, replays with Idempotent-Replayed, and refuses a mismatch", async () => {
    const sku = await seed();
    const { idempotencyKey, ...rest } = body(sku);
    const first = await call("POST", "/api/v1/orders", rest, { "idempotency-key": idempotencyKey });
    expect(first.status).toBe(201);
    const again = await call("POST", "/api/v1/orders", rest, { "idempotency-key": idempotencyKey });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expectProblem(
      await call("POST", "/api/v1/orders", { ...rest, idempotencyKey: "other" }, { "idempotency-key": idempotencyKey }),
      400,
      "VALIDATION_ERROR",
    );
    expectProblem(await call("POST", "/api/v1/orders", rest), 400, "VALIDATION_ERROR");
    const reused = await call(
      "POST",
      "/api/v1/orders",
      { ...rest, items: [{ ...rest.items[0], qty: 2 }] },
      { "idempotency-key": idempotencyKey },
    );
    expectProblem(reused, 409, "IDEMPOTENCY_KEY_REUSED");
  });

  it("creates exactly one order for 30 concurrent requests with one key, with no 5xx", async () => {
    const sku = await seed(100);
    const request = body(sku, { userId: "u-storm" });
    const responses = await Promise.all(Array.from({ length: 30 }, () => call("POST", "/api/v1/orders", request)));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(29);
    expect(new Set(responses.map((r) => r.body.orderId)).size).toBe(1);
    expect((await call("GET", `/internal/inventory/${sku.skuId}`)).body.reserved).toBe(1);
    expect((await call("GET", "/api/v1/orders?userId=u-storm")).body.items).toHaveLength(1);
  });

  it("answers 409s with problem+json: PRICE_CHANGED with items, OUT_OF_STOCK with items", async () => {
    const sku = await seed(1, 1000);
    const changed = await call("POST", "/api/v1/orders", body({ ...sku, unitPrice: 999 }));
    expectProblem(changed, 409, "PRICE_CHANGED");
    expect(changed.body.items).toEqual([
      {
        skuId: sku.skuId,
        expectedOfferId: sku.offerId,
        expectedUnitPrice: 999,
        currentOfferId: sku.offerId,
        currentUnitPrice: 1000,
      },
    ]);
    const short = await call("POST", "/api/v1/orders", {
      ...body(sku),
      items: [{ skuId: sku.skuId, qty: 2, offerId: sku.offerId, unitPrice: 1000 }],
    });
    expectProblem(short, 409, "OUT_OF_STOCK");
    expect(short.body.items).toEqual([{ skuId: sku.skuId, requested: 2, available: 1 }]);
  });

  it("moves an order through internal events, 409 on an illegal one", async () => {
    const sku = await seed();
    const orderId = (await call("POST", "/api/v1/orders", body(sku))).body.orderId;
    const paid = await call("POST", `/internal/orders/${orderId}/events`, {
      type: "PAYMENT_SUCCEEDED",
      externalId: "p-1",
    });
    expect(paid.body.status).toBe("PAID");
    const dup = await call("POST", `/internal/orders/${orderId}/events`, {
      type: "PAYMENT_SUCCEEDED",
      externalId: "p-1",
    });
    expect(dup.status).toBe(200);
    expect(dup.body.version).toBe(paid.body.version);
    expectProblem(
      await call("POST", `/internal/orders/${orderId}/events`, { type: "DELIVERED" }),
      409,
      "INVALID_TRANSITION",
    );
    expectProblem(await call("POST", `/api/v1/orders/${orderId}/cancel`), 409, "INVALID_TRANSITION");
  });

  describe("bad input is a 4xx problem+json and writes nothing", () => {
    const cases: [string, (sku: any) => Record<string, unknown>, string][] = [
      ["unknown field", (s) => body(s, { coupon: "FREE" }), "coupon"],
      [
        "qty 0",
        (s) => body(s, { items: [{ skuId: s.skuId, qty: 0, offerId: s.offerId, unitPrice: s.unitPrice }] }),
        "items.0.qty",
      ],
      [
        "qty 1000",
        (s) => body(s, { items: [{ skuId: s.skuId, qty: 1000, offerId: s.offerId, unitPrice: s.unitPrice }] }),
        "items.0.qty",
      ],
      [
        "float price",
        (s) => body(s, { items: [{ skuId: s.skuId, qty: 1, offerId: s.offerId, unitPrice: 12.5 }] }),
        "items.0.unitPrice",
      ],
      [
        "string qty",
        (s) => body(s, { items: [{ skuId: s.skuId, qty: "1", offerId: s.offerId, unitPrice: s.unitPrice }] }),
        "items.0.qty",
      ],
      ["no items nor cart", (s) => body(s, { items: undefined }), "items"],
      ["items and cart", (s) => body(s, { cartId: "c-1" }), "items"],
      [
        "duplicate sku",
        (s) =>
          body(s, {
            items: [0, 1].map(() => ({ skuId: s.skuId, qty: 1, offerId: s.offerId, unitPrice: s.unitPrice })),
          }),
        "items.1.skuId",
      ],
      [
        "51 lines",
        (s) =>
          body(s, {
            items: Array.from({ length: 51 }, (_, i) => ({ skuId: `x${i}`, qty: 1, offerId: "o", unitPrice: 1 })),
          }),
        "items",
      ],
      ["bad currency", (s) => body(s, { currency: "krw" }), "currency"],
      ["missing userId", (s) => body(s, { userId: undefined }), "userId"],
    ];
    for (const [name, make, field] of cases) {
      it(name, async () => {
        const sku = await seed(3);
        const response = await call("POST", "/api/v1/orders", make(sku));
        expectProblem(response, 400, "VALIDATION_ERROR");
        expect(response.body.errors.map((e: any) => e.path)).toContain(field);
        expect((await call("GET", `/internal/inventory/${sku.skuId}`)).body.reserved).toBe(0);
      });
    }

    it("malformed JSON, wrong content type, empty body, array body", async () => {
      expectProblem(await call("POST", "/api/v1/orders", "{not json"), 400, "VALIDATION_ERROR");
      expectProblem(
        await call("POST", "/api/v1/orders", "{}", { "content-type": "text/plain" }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      );
      expectProblem(await call("POST", "/api/v1/orders"), 400, "VALIDATION_ERROR");
      expectProblem(await call("POST", "/api/v1/orders", "[]"), 400, "VALIDATION_ERROR");
    });

    it("a body over 256 KB is 413", async () => {
      const sku = await seed();
      expectProblem(
        await call("POST", "/api/v1/orders", body(sku, { userId: "x".repeat(300 * 1024) })),
        413,
        "PAYLOAD_TOO_LARGE",
      );
    });

    it("list without userId, bad limit, bad cursor; unknown order; unknown route", async () => {
      expectProblem(await call("GET", "/api/v1/orders"), 400, "VALIDATION_ERROR");
      expectProblem(await call("GET", "/api/v1/orders?userId=u&limit=101"), 400, "VALIDATION_ERROR");
      expectProblem(await call("GET", "/api/v1/orders?userId=u&cursor=zzz"), 400, "VALIDATION_ERROR");
      expectProblem(await call("GET", "/api/v1/orders?userId=u&colour=red"), 400, "VALIDATION_ERROR");
      // cursors that decode to keys this query could never have returned
      const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
      for (const key of [
        { gsi1pk: "USER#u" },
        { gsi1pk: "USER#u", gsi1sk: "x", pk: "ORDER#x", sk: 1 },
        { gsi1pk: "USER#u", gsi1sk: "x", pk: "ORDER#x", sk: "ORDER", extra: "y" },
        [1],
      ])
        expectProblem(await call("GET", `/api/v1/orders?userId=u&cursor=${cursor(key)}`), 400, "VALIDATION_ERROR");
      expectProblem(
        await call("GET", `/api/v1/orders/01X/events?cursor=${cursor({ pk: "ORDER#01X" })}`),
        400,
        "VALIDATION_ERROR",
      );
      expectProblem(
        await call("GET", `/api/v1/orders/01X/events?cursor=${cursor({ pk: "ORDER#01X", sk: "ORDER" })}`),
        400,
        "VALIDATION_ERROR",
      );
      expectProblem(await call("GET", "/api/v1/orders/01UNKNOWN"), 404, "NOT_FOUND");
      expectProblem(await call("GET", "/api/v1/orders/01UNKNOWN/events"), 404, "NOT_FOUND");
      expectProblem(await call("GET", "/api/v1/nothing"), 404, "NOT_FOUND");
    });

    it("reference data: bad stock, bad offer, stock below reserved", async () => {
      expectProblem(await call("PUT", "/internal/inventory/sku-bad", { onHand: -1 }), 400, "VALIDATION_ERROR");
      expectProblem(
        await call("PUT", "/internal/offers/sku-bad", { offerId: "o", unitPrice: 1.5, currency: "KRW" }),
        400,
        "VALIDATION_ERROR",
      );
      const sku = await seed(2);
      await call(
        "POST",
        "/api/v1/orders",
        body(sku, { items: [{ skuId: sku.skuId, qty: 2, offerId: sku.offerId, unitPrice: sku.unitPrice }] }),
      );
      expectProblem(await call("PUT", `/internal/inventory/${sku.skuId}`, { onHand: 1 }), 409, "STOCK_BELOW_RESERVED");
      expect((await call("GET", `/internal/inventory/${sku.skuId}`)).body).toMatchObject({
        onHand: 2,
        reserved: 2,
        available: 0,
      });
    });
  });
});
