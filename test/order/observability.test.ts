import { beforeAll, describe, expect, it, vi } from "vitest";
import { freshTable } from "../support/table.js";

// Powertools reads these when its modules load, so they are set before the handlers are imported.
process.env.POWERTOOLS_METRICS_DISABLED = "false";
process.env.POWERTOOLS_LOG_LEVEL = "INFO";

const lines: string[] = [];
let call: (method: string, path: string, body?: unknown) => Promise<{ statusCode?: number; body?: string }>;

beforeAll(async () => {
  await freshTable("observability");
  const { routeRequest } = await import("../../functions/http/api.js");
  const orders = await import("../../functions/api/orders.js");
  call = (method, path, body) =>
    routeRequest(orders.routes, {
      version: "2.0",
      routeKey: `${method} ${path.replace(/\/api\/v1\/orders\/[^/]+/, "/api/v1/orders/{orderId}")}`,
      rawPath: path,
      rawQueryString: "",
      headers: { "content-type": "application/json", "x-request-id": "obs-req" },
      pathParameters: { orderId: path.split("/")[4] ?? "" },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: "gw" } as never,
    });
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
});

function emitted(): { metrics: Record<string, unknown>[]; logs: Record<string, unknown>[] } {
  const parsed = lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { metrics: parsed.filter((p) => "_aws" in p), logs: parsed.filter((p) => "level" in p) };
}

function metricNames(metrics: Record<string, unknown>[]): string[] {
  return metrics.flatMap((m) =>
    (m._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map(
      (x) => x.Name,
    ),
  );
}

describe("observability (Powertools EMF metrics and structured logs)", () => {
  it("emits the seed's metrics and log fields for checkout, replay, rejections and cancel", async () => {
    const { seedSku, checkoutRequest } = await import("../support/fixtures.js");
    const sku = await seedSku({ onHand: 1 });
    const request = checkoutRequest([sku], { cartId: undefined });
    const created = await call("POST", "/api/v1/orders", request);
    expect(created.statusCode).toBe(201);
    expect((await call("POST", "/api/v1/orders", request)).statusCode).toBe(200);
    expect((await call("POST", "/api/v1/orders", checkoutRequest([sku]))).statusCode).toBe(409);
    expect((await call("POST", "/api/v1/orders", checkoutRequest([{ ...sku, unitPrice: 1 }]))).statusCode).toBe(409);
    const orderId = JSON.parse(created.body!).orderId as string;
    expect((await call("POST", `/api/v1/orders/${orderId}/cancel`, {})).statusCode).toBe(200);

    const { metrics, logs } = emitted();
    const names = metricNames(metrics);
    for (const name of [
      "order_create_total",
      "order_idempotent_hit_total",
      "order_out_of_stock_total",
      "order_price_changed_total",
      "order_cancel_total",
    ])
      expect(names).toContain(name);
    const createStatuses = metrics.filter((m) => "order_create_total" in m).map((m) => m.status);
    expect(createStatuses).toEqual(expect.arrayContaining(["created", "replayed", "OUT_OF_STOCK", "PRICE_CHANGED"]));

    const createdLog = logs.find((l) => l.message === "order created");
    expect(createdLog).toMatchObject({
      order_id: orderId,
      user_id: "u-1",
      idempotency_key: request.idempotencyKey,
      request_id: "obs-req",
      status_transition: "->PAYMENT_PENDING",
    });
    const { Cart } = await import("../../core/cart/index.js");
    const cartSku = await seedSku({ onHand: 5 });
    await Cart.put("obs-cart", {
      userId: "u-1",
      currency: "KRW",
      items: [{ skuId: cartSku.skuId, qty: 1, offerId: cartSku.offerId, unitPrice: cartSku.unitPrice }],
    });
    const { items: _lines, ...fromCart } = checkoutRequest([], { cartId: "obs-cart" });
    expect((await call("POST", "/api/v1/orders", fromCart)).statusCode).toBe(201);
    expect(emitted().logs.find((l) => l.message === "order created" && l.cart_id === "obs-cart")).toBeDefined();
    expect(logs.find((l) => l.message === "order cancel")).toMatchObject({
      order_id: orderId,
      status_transition: "PAYMENT_PENDING->CANCELED",
    });
  });
});
