import { connect } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { FREE_FORM_MAX_BYTES } from "../../core/schema.js";
import { handler as fallbackHandler } from "../../functions/api/fallback.js";
import { routes } from "../../functions/routes.js";
import { lambdaContext } from "../../local/lambda.js";
import { expectProblem, useRelaySuite } from "../relay/support.js";

// Issue 9 (defects found from outside): every answer of the local runtime over real HTTP.

const suite = useRelaySuite();
const call = (...args: Parameters<typeof suite.call>) => suite.call(...args);

/** A SKU with stock and an offer, and a checkout body for one of it. */
async function checkoutBody(extra: Record<string, unknown> = {}) {
  const skuId = suite.kit.unique("sku");
  expect(
    (await call("PUT", `/internal/offers/${skuId}`, { offerId: "off-1", unitPrice: 1000, currency: "KRW" })).status,
  ).toBe(200);
  expect((await call("PUT", `/internal/inventory/${skuId}`, { onHand: 5 })).status).toBe(200);
  return {
    skuId,
    body: {
      userId: "u-hard",
      idempotencyKey: suite.kit.unique("k"),
      items: [{ skuId, qty: 1, offerId: "off-1", unitPrice: 1000 }],
      currency: "KRW",
      paymentMethod: "CARD",
      ...extra,
    },
  };
}

async function placedOrder() {
  const { body } = await checkoutBody({ shippingAddressId: "addr-1" });
  const created = await call("POST", "/api/v1/orders", body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as Record<string, any>;
}

/** The 400 VALIDATION_ERROR the contract asks for: problem+json naming `field` (or a path inside it). */
function expectNamed(response: Awaited<ReturnType<typeof call>>, field: string) {
  expectProblem(response, 400, "VALIDATION_ERROR");
  const paths = (response.body.errors as { path: string }[]).map((e) => e.path);
  expect(
    paths.some((p) => p === field || p.startsWith(`${field}.`)),
    JSON.stringify(response.body),
  ).toBe(true);
}

const oversized = (bytes: number) => ({ note: "x".repeat(bytes) });

describe("free-form objects: an empty key or an oversized object is a 400 naming the field, and nothing is written", () => {
  it("checkout shippingAddress", async () => {
    for (const shippingAddress of [
      { "": "x" },
      { line1: "x".repeat(500), line2: "x".repeat(500), line3: "x".repeat(500), line4: "x".repeat(500), line5: "x" },
    ]) {
      const { skuId, body } = await checkoutBody({ shippingAddress });
      expect(
        JSON.stringify(shippingAddress).length > FREE_FORM_MAX_BYTES.shippingAddress || "" in shippingAddress,
      ).toBe(true);
      expectNamed(await call("POST", "/api/v1/orders", body), "shippingAddress");
      expect((await call("GET", `/internal/inventory/${skuId}`)).body.reserved).toBe(0);
      // Nothing stored, the key included: the same key with a valid body creates the order.
      const retried = await call("POST", "/api/v1/orders", { ...body, shippingAddress: { line1: "1 Sejong-daero" } });
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    }
  });

  it("order event payload, at any depth", async () => {
    const order = await placedOrder();
    for (const payload of [
      { "": 1 },
      { a: { "": 1 } },
      { a: [{ b: { "": null } }] },
      oversized(FREE_FORM_MAX_BYTES.payload),
    ]) {
      expectNamed(
        await call("POST", `/internal/orders/${order.orderId}/events`, {
          type: "PAYMENT_SUCCEEDED",
          externalId: "p-1",
          payload,
        }),
        "payload",
      );
    }
    const after = await call("GET", `/api/v1/orders/${order.orderId}`);
    expect(after.body.version).toBe(order.version);
    expect(after.body.status).toBe("PAYMENT_PENDING");
  });

  it("relay create: customerInfo, shippingInfo, metadata", async () => {
    const listing = await suite.kit.newListing();
    const cases: [string, Record<string, unknown>][] = [
      ["shippingInfo", { shippingInfo: { "": "x" } }],
      ["shippingInfo", { shippingInfo: { address: { "": "x" } } }],
      ["metadata", { metadata: { source: "smartstore", "": "x" } }],
      ["metadata", { metadata: { source: "smartstore", extra: { "": "x" } } }],
      ["customerInfo", { customerInfo: { "": "x" } }],
      ["customerInfo", { customerInfo: { name: "Kim", address: { "": "x" } } }],
      ["customerInfo", { customerInfo: { a: "x".repeat(1000), b: "x".repeat(1000), c: "x".repeat(100) } }],
      [
        "shippingInfo",
        { shippingInfo: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, "x".repeat(900)])) },
      ],
      [
        "metadata",
        {
          metadata: {
            source: "smartstore",
            ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, "x".repeat(900)])),
          },
        },
      ],
    ];
    for (const [field, overrides] of cases)
      expectNamed(await call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, overrides)), field);
    const listed = await call("GET", `/internal/relays?listingId=${listing.listingId}`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items).toEqual([]);
  });

  it("relay PATCH and relay events", async () => {
    const listing = await suite.kit.newListing();
    const relay = await suite.kit.create(listing.listingId);
    const before = await suite.kit.firstDispatch(relay.relayId); // settled: nothing else changes it from here

    for (const [field, body] of [
      ["shippingInfo", { shippingInfo: { "": "x" } }],
      ["customerInfo", { customerInfo: { "": "x" } }],
      ["customerInfo", { customerInfo: { a: "x".repeat(2100) } }],
    ] as const)
      expectNamed(await call("PATCH", `/internal/relays/${relay.relayId}`, body), field);
    expectNamed(
      await suite.kit.event(relay.relayId, "CANCELLED", { reason: "r", shippingInfo: { "": "x" } }),
      "shippingInfo",
    );
    const after = await suite.kit.get(relay.relayId);
    expect(after.version).toBe(before.version);
    expect(after.customerInfo).toEqual(before.customerInfo);
    expect(after.shippingInfo).toEqual(before.shippingInfo);
  });
});

describe("empty maps reach the local bus", () => {
  // Relay audits publish ids and statuses only; local/poller.test.ts covers a RelayAudit item holding an empty map.
  it("publishes an order event whose payload holds an empty map", async () => {
    const order = await placedOrder();
    const paid = await call("POST", `/internal/orders/${order.orderId}/events`, {
      type: "PAYMENT_SUCCEEDED",
      externalId: "p-empty",
      payload: { a: {} },
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const published = await suite.runtime.bus.waitFor(
      (e) => e["detail-type"] === "PAYMENT_SUCCEEDED" && (e.detail as any).orderId === order.orderId,
      10_000,
    );
    expect((published.detail as any).payload).toMatchObject({ a: {} });

    expect(suite.runtime.poller.onFailure).toEqual([]);
  });
});

describe("the card filter", () => {
  it("takes coordinates with many decimals, as numbers and as strings, and still refuses card numbers", async () => {
    const listing = await suite.kit.newListing();
    const shippingInfo = {
      address: "Seoul City Hall",
      lat: 37.5665355123451,
      lng: 126.9779692,
      geo: "37.5665355123451,126.9779692",
    };
    const relay = await suite.kit.create(listing.listingId, { shippingInfo });
    expect(relay.shippingInfo).toMatchObject(shippingInfo);
    for (const pan of [
      "4111111111111111",
      "4111 1111 1111 1111",
      "4111-1111-1111-1111",
      "4111.1111.1111.1111",
      "3782 822463 10005",
    ])
      expectProblem(
        await call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(listing.listingId, { shippingInfo: { memo: `card ${pan}` } }),
        ),
        400,
        "FORBIDDEN_DATA",
      );
    expectProblem(
      await call(
        "POST",
        "/internal/relays",
        suite.kit.relayBody(listing.listingId, { shippingInfo: { n: 4111111111111111 } }),
      ),
      400,
      "FORBIDDEN_DATA",
    );
  });
});

/** What a raw HTTP/1.1 exchange answers: status line, headers (lower case) and body. */
function rawRequest(
  url: string,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("utf8")));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
}

describe("unknown routes and requests the gateway cannot take", () => {
  it("answers an unknown path with 404 problem+json and x-request-id", async () => {
    for (const path of ["/nothing", "/api/v1/orders/x/y/z", "/internal", "/api/v1/orders/"]) {
      const response = await call("GET", path);
      expectProblem(response, 404, "NOT_FOUND");
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9A-Z]{26}$/);
      expect(response.body.requestId).toBe(response.headers.get("x-request-id"));
    }
    expect(
      (await call("POST", "/nothing", "{not json", { "x-request-id": "mine-404" })).headers.get("x-request-id"),
    ).toBe("mine-404");
  });

  it("answers a known path with another method with 405 METHOD_NOT_ALLOWED and Allow", async () => {
    const cases: [string, string, string][] = [
      ["DELETE", "/api/v1/orders", "POST, GET"],
      ["PUT", "/api/v1/orders/01X", "GET"],
      ["GET", "/api/v1/orders/01X/cancel", "POST"],
      ["DELETE", "/internal/relays/r-1", "GET, PATCH"],
      ["GET", "/admin/relays/retry", "POST"],
      ["PATCH", "/internal/offers/sku-1", "PUT, GET"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await call(method, path, undefined, { "x-request-id": `req-${method}` });
      expectProblem(response, 405, "METHOD_NOT_ALLOWED");
      expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(response.headers.get("x-request-id")).toBe(`req-${method}`);
    }
  });

  it("answers the same from the AWS $default route (named stage included)", async () => {
    const event = (method: string, rawPath: string, stage = "$default") =>
      ({
        version: "2.0",
        routeKey: "$default",
        rawPath,
        rawQueryString: "",
        headers: { "x-request-id": "aws-1" },
        isBase64Encoded: false,
        body: "{not json",
        requestContext: { requestId: "gw-1", stage, http: { method, path: rawPath } },
      }) as unknown as APIGatewayProxyEventV2;
    const notFound = await fallbackHandler(event("GET", "/nope"), lambdaContext("orderline-fallback"));
    expect(notFound).toMatchObject({
      statusCode: 404,
      headers: { "content-type": "application/problem+json", "x-request-id": "aws-1" },
    });
    expect(JSON.parse(notFound.body!)).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const wrong = await fallbackHandler(
      event("POST", "/prod/internal/relays/r-1", "prod"),
      lambdaContext("orderline-fallback"),
    );
    expect(wrong).toMatchObject({ statusCode: 405, headers: { allow: "GET, PATCH", "x-request-id": "aws-1" } });
    expect(JSON.parse(wrong.body!)).toMatchObject({ status: 405, code: "METHOD_NOT_ALLOWED", allow: ["GET", "PATCH"] });
  });

  it("answers oversized request lines and headers, and malformed requests, with problem+json", async () => {
    const longLine = await rawRequest(
      suite.runtime.url,
      `GET /api/v1/orders?userId=${"u".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const bigHeader = await rawRequest(
      suite.runtime.url,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`,
    );
    for (const response of [longLine, bigHeader]) {
      expect(response.status).toBe(431);
      expect(response.headers["content-type"]).toBe("application/problem+json");
      expect(response.headers["x-request-id"]).toMatch(/^[0-9A-Z]{26}$/);
      expect(JSON.parse(response.body)).toMatchObject({ status: 431, code: "REQUEST_HEADER_FIELDS_TOO_LARGE" });
    }
    const malformed = await rawRequest(suite.runtime.url, "NOT HTTP AT ALL\r\n\r\n");
    expect(malformed.status).toBe(400);
    expect(malformed.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(malformed.body)).toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
    // The gateway still serves afterwards.
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("refuses a JSON null body on every route that takes a body; the cancel route still takes none", async () => {
    const order = await placedOrder();
    for (const route of routes.filter((r) => r.method !== "GET")) {
      const path = route.path.replace("{orderId}", order.orderId).replace(/\{[^}]+\}/g, "x-1");
      const response = await call(route.method, path, "null");
      // A signed webhook may refuse the missing signature first.
      if (route.path.startsWith("/webhooks/") && response.status === 401) continue;
      expectProblem(response, 400, "VALIDATION_ERROR");
      expect(response.body.errors, `${route.method} ${route.path}`).toEqual([
        expect.objectContaining({ path: "(body)" }),
      ]);
    }
    expect((await call("GET", `/api/v1/orders/${order.orderId}`)).body.status).toBe("PAYMENT_PENDING");
    expect((await call("POST", `/api/v1/orders/${order.orderId}/cancel`)).body.status).toBe("CANCELED");
  });
});
