import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { client, expectProblem, type JsonResponse, startTestRuntime } from "../support/runtime.js";

// Errors a person understands (issue 11): every problem in one answer, each named where the caller sent it
// (`path.<name>`, `query.<name>`, `header.<name>`, or the body field), in plain words.

let runtime: LocalRuntime;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  call = client(runtime.url);
});
afterAll(() => runtime?.stop());

const errorsOf = (response: JsonResponse) => response.body.errors as { path: string; message: string }[];

describe("checkout: every missing field at once", () => {
  it("answers `{}` with one 400 naming every required field, the key as a header/body choice, and both exactly-one-of rules", async () => {
    const response = await call("POST", "/api/v1/orders", {});
    expectProblem(response, 400, "VALIDATION_ERROR");
    expect(errorsOf(response)).toEqual(
      expect.arrayContaining([
        { path: "userId", message: "is required" },
        { path: "currency", message: "is required" },
        { path: "paymentMethod", message: "is required" },
        {
          path: "header.Idempotency-Key",
          message: expect.stringMatching(/Idempotency-Key header or the body field idempotencyKey/),
        },
        { path: "items", message: "give exactly one of items or cartId" },
        { path: "shippingAddressId", message: "give exactly one of shippingAddressId or shippingAddress" },
      ]),
    );
    expect(errorsOf(response).map((e) => e.path)).not.toContain("idempotencyKey");
    expect(response.body.detail).toContain("userId: is required");
  });

  it("names a bad Idempotency-Key header as the header, and a bad body key as the body field", async () => {
    const base = {
      userId: "u-1",
      items: [{ skuId: "s-1", qty: 1, offerId: "o", unitPrice: 1 }],
      currency: "KRW",
      shippingAddressId: "a-1",
      paymentMethod: "CARD",
    };
    const badHeader = await call("POST", "/api/v1/orders", base, { "idempotency-key": "has space" });
    expectProblem(badHeader, 400, "VALIDATION_ERROR");
    expect(errorsOf(badHeader)).toEqual([
      { path: "header.Idempotency-Key", message: "must be printable ASCII without spaces" },
    ]);
    const badBody = await call("POST", "/api/v1/orders", { ...base, idempotencyKey: "" });
    expect(errorsOf(badBody)).toEqual([{ path: "idempotencyKey", message: "must not be empty" }]);
  });
});

describe("plain wording instead of validator messages", () => {
  it("says 'must be a whole number', 'must be a number', 'is not a known field'", async () => {
    const response = await call(
      "POST",
      "/api/v1/orders",
      {
        userId: "u-1",
        items: [{ skuId: "s-1", qty: 1.5, offerId: "o", unitPrice: "12000" }],
        currency: "KRW",
        shippingAddressId: "a-1",
        paymentMethod: "CARD",
        coupon: "FREE",
      },
      { "idempotency-key": "k-plain" },
    );
    expectProblem(response, 400, "VALIDATION_ERROR");
    expect(errorsOf(response)).toEqual(
      expect.arrayContaining([
        { path: "items.0.qty", message: "must be a whole number" },
        { path: "items.0.unitPrice", message: "must be a number" },
        { path: "coupon", message: "is not a known field" },
      ]),
    );
    expect(JSON.stringify(response.body)).not.toMatch(/Invalid input|expected int|received/);
  });

  it("says 'must be a number' for a query value that is not one (never 'received NaN'), named query.<name>", async () => {
    const response = await call("GET", "/api/v1/orders?userId=u-1&limit=abc");
    expectProblem(response, 400, "VALIDATION_ERROR");
    expect(errorsOf(response)).toEqual([{ path: "query.limit", message: "must be a number" }]);
    const missing = await call("GET", "/api/v1/orders");
    expect(errorsOf(missing)).toEqual([{ path: "query.userId", message: "is required" }]);
  });

  it("uses plain ranges: 'must be at least 1', 'must be at most 999'", async () => {
    const response = await call("PUT", "/internal/inventory/sku-plain", { onHand: -1 });
    expectProblem(response, 400, "VALIDATION_ERROR");
    expect(errorsOf(response)).toEqual([{ path: "onHand", message: "must be at least 0" }]);
  });
});

describe("path parameters are named path.<name>, never (body)", () => {
  const cases: [string, string, unknown?][] = [
    ["GET", "/api/v1/orders/bad%20id"],
    ["GET", "/api/v1/orders/bad%20id/events"],
    ["POST", "/api/v1/orders/bad%20id/cancel", {}],
    ["POST", "/internal/orders/bad%20id/events", { type: "PAYMENT_SUCCEEDED" }],
    ["GET", "/internal/offers/bad%20id"],
    ["PUT", "/internal/inventory/bad%20id", { onHand: 1 }],
    ["GET", "/internal/carts/bad%20id"],
    ["GET", "/internal/listings/bad%20id"],
    ["GET", "/internal/suppliers/bad%20id"],
    ["GET", "/internal/relays/bad%20id"],
    ["GET", "/internal/relays/bad%20id/audit"],
    ["POST", "/internal/relays/bad%20id/dispatch"],
  ];
  for (const [method, path, body] of cases)
    it(`${method} ${path}`, async () => {
      const response = await call(method, path, body);
      expectProblem(response, 400, "VALIDATION_ERROR");
      const name = /\/(orders|offers|inventory|carts|listings|suppliers|relays)\/bad/.exec(path)![1]!;
      const param = {
        orders: "orderId",
        offers: "skuId",
        inventory: "skuId",
        carts: "cartId",
        listings: "listingId",
        suppliers: "supplierId",
        relays: "relayId",
      }[name];
      expect(errorsOf(response)).toEqual([
        { path: `path.${param}`, message: "may contain only letters, digits and . _ : @ -" },
      ]);
    });
});
