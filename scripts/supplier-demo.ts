/**
 * `npm run supplier:demo` (with `npm run dev` running): the whole dropship loop on a laptop. It starts the demo
 * supplier (local/demo-supplier.ts), registers it, lists a SKU with it, places and pays an order of that SKU, and
 * prints the order as it moves with its relay: PAID -> relay created and dispatched (signature verified by the
 * supplier) -> READY_TO_SHIP -> SHIPPED -> DELIVERED. Then it keeps serving until Ctrl-C.
 *
 * Environment: ORDERLINE_URL (default http://127.0.0.1:$PORT, port 3000 when PORT is unset), SUPPLIER_PORT (default
 * 4000), DEMO_STEP_MS (1000).
 */

import { sleep } from "../core/retry.js";
import { startDemoSupplier } from "../local/demo-supplier.js";

const orderline = process.env.ORDERLINE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const stepDelayMs = Number(process.env.DEMO_STEP_MS ?? 1000);

type Fields = Record<string, unknown>;

async function call<B = Fields>(method: string, path: string, body?: unknown): Promise<{ status: number; body: B }> {
  const response = await fetch(`${orderline}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-actor": "supplier-demo" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as B) : (undefined as B) };
}

/** The call's answer body; any status from 300 up is an error. */
async function must<B = Fields>(method: string, path: string, body?: unknown): Promise<B> {
  const response = await call<B>(method, path, body);
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

interface Order {
  orderId: string;
  status: string;
}

/** An offer, stock and a listing that sells the SKU through the supplier. */
async function listThrough(supplierId: string, skuId: string, listingId: string): Promise<void> {
  await must("PUT", `/internal/offers/${skuId}`, {
    offerId: "off-demo",
    unitPrice: 15000,
    currency: "KRW",
    title: "Dropshipped mug",
  });
  await must("PUT", `/internal/inventory/${skuId}`, { onHand: 100 });
  await must("PUT", `/internal/listings/${listingId}`, {
    sellerId: "seller-demo",
    supplierId,
    supplierOfferId: "mug-001",
    sellingPrice: 15000,
    currency: "KRW",
    channel: "own-shop",
    active: true,
    skuId,
  });
  console.log(`listing ${listingId} sells ${skuId} through ${supplierId}`);
}

/** Places an order of the SKU and reports its payment; resolves with the order id. */
async function placePaidOrder(skuId: string, run: string): Promise<string> {
  const order = await must<Order>("POST", "/api/v1/orders", {
    userId: "demo-user",
    idempotencyKey: `demo-${run}`,
    items: [{ skuId, qty: 1, offerId: "off-demo", unitPrice: 15000 }],
    currency: "KRW",
    shippingAddress: { name: "Kim Minji", line1: "1 Sejong-daero", city: "Seoul" },
    paymentMethod: "CARD",
  });
  console.log(`order ${order.orderId}: ${order.status}`);
  await must("POST", `/internal/orders/${order.orderId}/events`, {
    type: "PAYMENT_SUCCEEDED",
    externalId: `pay-${run}`,
  });
  return order.orderId;
}

/** Prints each status the order reaches until it is settled or time is up; resolves with the last one seen. */
async function followOrder(orderId: string): Promise<string> {
  let last = "";
  const deadline = Date.now() + 20 * stepDelayMs + 15_000;
  while (Date.now() < deadline) {
    const { status } = await must<Order>("GET", `/api/v1/orders/${orderId}`);
    if (status !== last) {
      last = status;
      console.log(`order ${orderId}: ${status}`);
    }
    if (status === "DELIVERED" || status === "REFUND_PENDING") break;
    await sleep(200);
  }
  const history = await must<{ items: { seq: number; type: string }[] }>(
    "GET",
    `/api/v1/orders/${orderId}/events?limit=100`,
  );
  console.log("order history:", history.items.map((e) => `${e.seq} ${e.type}`).join(", "));
  return last;
}

async function main(): Promise<void> {
  const health = await call("GET", "/health").catch(() => undefined);
  if (health?.status !== 200) {
    console.error(
      `Orderline is not answering at ${orderline}: start it first with \`npm run dev\` (or set ORDERLINE_URL).`,
    );
    process.exit(1);
  }
  const supplier = await startDemoSupplier({
    orderlineUrl: orderline,
    port: Number(process.env.SUPPLIER_PORT ?? 4000),
    stepDelayMs,
    log: (l) => console.log(`  ${l}`),
  });
  const run = Date.now().toString(36);
  const skuId = `demo-sku-${run}`;
  await listThrough(supplier.supplierId, skuId, `demo-listing-${run}`);
  const orderId = await placePaidOrder(skuId, run);
  if ((await followOrder(orderId)) !== "DELIVERED") {
    console.error("the order did not reach DELIVERED in time");
    await supplier.stop();
    process.exit(1);
  }
  if (process.argv.includes("--once")) return supplier.stop();
  console.log(`the demo supplier keeps serving on ${supplier.url}/orders; Ctrl-C to stop`);
  process.once("SIGINT", () => void supplier.stop().then(() => process.exit(0)));
  process.once("SIGTERM", () => void supplier.stop().then(() => process.exit(0)));
}

await main();
