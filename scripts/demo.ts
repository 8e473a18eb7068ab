/**
 * `npm run demo` (with `npm run dev` running): a tour of the running service, every step printed with its request
 * and the answer's key fields. Checkout, idempotent replay, a price change refused, payment through the event bus
 * with the real AWS SDK, shipment, cancel of another order, a relay to a demo supplier that fulfils it, a failed
 * dispatch and an admin retry, then the order's event history and the relay's audit. Exits non-zero with the reason
 * at the first unexpected answer.
 *
 * Environment: ORDERLINE_URL (default http://127.0.0.1:${PORT:-3000}), DEMO_STEP_MS (demo supplier pause, 100).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { sleep } from "../core/retry.js";
import { type DemoSupplier, startDemoSupplier } from "../local/demo-supplier.js";

const orderline = (process.env.ORDERLINE_URL ?? `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/$/, "");
const stepDelayMs = Number(process.env.DEMO_STEP_MS ?? 100);
const run = Date.now().toString(36);
const started = Date.now();

class DemoFailure extends Error {}

/** An answer's JSON body: the tour reads a few fields of each and prints the rest as is. */
type Fields = Record<string, unknown>;

interface Answer<B = Fields> {
  status: number;
  headers: Headers;
  body: B;
}

/** The fields of an order, a relay and a page that the tour's checks read. */
interface OrderFields {
  orderId: string;
  status: string;
  totalAmount: number;
}
interface RelayFields {
  relayId: string;
  status: string;
  orderNumber?: string;
  metadata?: { lastError?: unknown };
}
interface Page<T> {
  items: T[];
}

type Cleanup = (() => Promise<void>)[];

const short = (value: unknown, max = 110) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
};

let stepNumber = 0;
function step(title: string): void {
  console.log(`\n${++stepNumber}. ${title}`);
}

/** Sends one request, prints it and its answer (`show` picks the key fields), and checks the status. */
async function call<B = Fields>(
  method: string,
  path: string,
  body: unknown,
  expected: number,
  show: (a: Answer<B>) => unknown = () => undefined,
  headers: Record<string, string> = {},
): Promise<Answer<B>> {
  const headerList = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  console.log(
    `   > ${method} ${path}${body === undefined ? "" : ` ${short(body)}`}${headerList ? `  [${headerList}]` : ""}`,
  );
  let response: Response;
  try {
    response = await fetch(`${orderline}${path}`, {
      method,
      headers: { "x-actor": "demo", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new DemoFailure(`${method} ${path}: no answer from ${orderline} (${(error as Error).message})`);
  }
  const text = await response.text();
  const answer: Answer<B> = {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as B) : (undefined as B),
  };
  const shown = answer.status === expected ? show(answer) : answer.body;
  console.log(
    `   < ${answer.status}${shown === undefined ? "" : ` ${short(shown, Array.isArray(shown) ? 400 : 160)}`}`,
  );
  if (answer.status !== expected)
    throw new DemoFailure(`${method} ${path}: expected ${expected}, got ${answer.status} ${short(answer.body, 400)}`);
  return answer;
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new DemoFailure(what);
}

/** Polls `read` until `done` holds (the stream and the bus are asynchronous), or fails after `timeoutMs`. */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new DemoFailure(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${short(value, 400)}`);
    await sleep(150);
  }
}

/** A quiet GET (polling): its answer is not printed. */
async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${orderline}${path}`);
  if (response.status !== 200)
    throw new DemoFailure(`GET ${path}: ${response.status} ${short(await response.text(), 400)}`);
  return (await response.json()) as T;
}

const orderStatus = (orderId: string, status: string) =>
  until(
    `order ${orderId} to reach ${status}`,
    () => get<OrderFields>(`/api/v1/orders/${orderId}`),
    (o) => o.status === status,
  ).then((o) => {
    console.log(`   = order ${orderId} is ${o.status}`);
    return o;
  });

const putOffer = (sku: string, { offerId, unitPrice, title }: { offerId: string; unitPrice: number; title: string }) =>
  call("PUT", `/internal/offers/${sku}`, { offerId, unitPrice, currency: "KRW", title }, 200, (a) => ({
    offerId: a.body.offerId,
    unitPrice: a.body.unitPrice,
  }));

const showStock = (sku: string) =>
  call("GET", `/internal/inventory/${sku}`, undefined, 200, (a) => ({
    onHand: a.body.onHand,
    reserved: a.body.reserved,
    available: a.body.available,
  }));

interface FlakySupplier {
  url: string;
  recover(): void;
  calls: () => number;
  stop(): Promise<void>;
}

/** A supplier endpoint that answers 500 until told to recover: the failed dispatch and the admin retry. */
async function flakySupplier(): Promise<FlakySupplier> {
  let healthy = false;
  let calls = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.writeHead(healthy ? 200 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify(healthy ? { accepted: true } : { error: "warehouse system down" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/orders`,
    recover: () => {
      healthy = true;
    },
    calls: () => calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The running service and a real EventBridge client on its local bus. */
async function connect(cleanup: Cleanup): Promise<{ bus: EventBridgeClient; busEndpoint: string }> {
  step("the service is up (GET /health gives the local event bus endpoint)");
  const health = await call<{ eventBusEndpoint: string }>("GET", "/health", undefined, 200, (a) => a.body).catch(
    (error: unknown) => {
      throw new DemoFailure(
        `Orderline is not answering at ${orderline}: start it with \`npm run dev\` (or set ORDERLINE_URL). ${(error as Error).message}`,
      );
    },
  );
  const busEndpoint = health.body.eventBusEndpoint;
  const bus = new EventBridgeClient({
    endpoint: busEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  cleanup.push(async () => bus.destroy());
  return { bus, busEndpoint };
}

function checkoutOf(sku: string) {
  return {
    userId: "demo-user",
    items: [{ skuId: sku, qty: 2, offerId: "off-1", unitPrice: 12000 }],
    currency: "KRW",
    shippingAddressId: "addr-1",
    paymentMethod: "CARD",
  };
}
type Checkout = ReturnType<typeof checkoutOf>;

/** Places the first order and replays its request; resolves with the order. */
async function checkoutAndReplay(sku: string, checkout: Checkout): Promise<OrderFields> {
  step("reference data other domains own: an offer and stock for a SKU");
  await putOffer(sku, { offerId: "off-1", unitPrice: 12000, title: "Clean Code" });
  await call("PUT", `/internal/inventory/${sku}`, { onHand: 10 }, 200, (a) => ({
    onHand: a.body.onHand,
    available: a.body.available,
  }));

  const key = { "Idempotency-Key": `demo-${run}-1` };
  step("checkout: 2 units reserved, the order waits for payment");
  const created = await call<OrderFields>(
    "POST",
    "/api/v1/orders",
    checkout,
    201,
    (a) => ({ orderId: a.body.orderId, status: a.body.status, totalAmount: a.body.totalAmount }),
    key,
  );
  expect(
    created.body.status === "PAYMENT_PENDING",
    `a new order should be PAYMENT_PENDING, got ${created.body.status}`,
  );

  step("the same request again (a client retry): the same order, nothing new written");
  const replay = await call<OrderFields>(
    "POST",
    "/api/v1/orders",
    checkout,
    200,
    (a) => ({ orderId: a.body.orderId, "Idempotent-Replayed": a.headers.get("idempotent-replayed") }),
    key,
  );
  expect(
    replay.body.orderId === created.body.orderId && replay.headers.get("idempotent-replayed") === "true",
    "the replay should return the same order with Idempotent-Replayed: true",
  );
  return created.body;
}

async function priceChangeRefused(sku: string, checkout: Checkout): Promise<void> {
  step("the price changes; a checkout at the old price is refused with every changed line");
  await putOffer(sku, { offerId: "off-2", unitPrice: 13000, title: "Clean Code" });
  const refused = await call<{ code: string; items: unknown }>(
    "POST",
    "/api/v1/orders",
    checkout,
    409,
    (a) => ({ code: a.body.code, items: a.body.items }),
    { "Idempotency-Key": `demo-${run}-2` },
  );
  expect(refused.body.code === "PRICE_CHANGED", `expected PRICE_CHANGED, got ${refused.body.code}`);
}

async function paymentThroughBus(
  { bus, busEndpoint }: { bus: EventBridgeClient; busEndpoint: string },
  order: OrderFields,
): Promise<void> {
  step("payment: the payment service's event through the event bus (real @aws-sdk/client-eventbridge PutEvents)");
  const detail = { orderId: order.orderId, paymentId: `pay-${run}`, amount: order.totalAmount, currency: "KRW" };
  console.log(`   > PutEvents ${busEndpoint} source=payments detail-type="Payment Succeeded" detail=${short(detail)}`);
  const put = await bus.send(
    new PutEventsCommand({
      Entries: [{ Source: "payments", DetailType: "Payment Succeeded", Detail: JSON.stringify(detail) }],
    }),
  );
  console.log(`   < FailedEntryCount=${put.FailedEntryCount} EventId=${put.Entries?.[0]?.EventId}`);
  expect(put.FailedEntryCount === 0, `PutEvents failed: ${short(put.Entries, 400)}`);
  await orderStatus(order.orderId, "PAID");
}

async function shipment(bus: EventBridgeClient, orderId: string, sku: string): Promise<void> {
  step("shipment: ready (event bus, source shipments), then shipped (POST /internal/orders/{id}/events)");
  await bus.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: "shipments",
          DetailType: "Shipment Ready",
          Detail: JSON.stringify({ orderId, shipmentId: `shp-${run}` }),
        },
      ],
    }),
  );
  console.log(
    `   > PutEvents source=shipments detail-type="Shipment Ready" detail={"orderId":"${orderId}","shipmentId":"shp-${run}"}`,
  );
  await orderStatus(orderId, "READY_TO_SHIP");
  await call(
    "POST",
    `/internal/orders/${orderId}/events`,
    { type: "SHIPPED", externalId: `shp-${run}`, payload: { carrier: "CJ", trackingNumber: `T-${run}` } },
    200,
    (a) => ({ status: a.body.status, version: a.body.version }),
  );
  await showStock(sku);
}

async function cancelBeforePayment(sku: string, checkout: Checkout): Promise<void> {
  step("another order, cancelled before payment: its stock is released");
  const other = await call<OrderFields>(
    "POST",
    "/api/v1/orders",
    {
      ...checkout,
      idempotencyKey: `demo-${run}-3`,
      items: [{ skuId: sku, qty: 1, offerId: "off-2", unitPrice: 13000 }],
    },
    201,
    (a) => ({ orderId: a.body.orderId, status: a.body.status }),
  );
  await showStock(sku);
  await call("POST", `/api/v1/orders/${other.body.orderId}/cancel`, { reason: "changed my mind" }, 200, (a) => ({
    status: a.body.status,
  }));
  await showStock(sku);
}

async function dropship(cleanup: Cleanup, checkout: Checkout): Promise<void> {
  step("dropship: a demo supplier, a listing of a SKU through it, an order of that SKU paid -> relay -> supplier");
  const supplier: DemoSupplier = await startDemoSupplier({
    orderlineUrl: orderline,
    supplierId: `demo-supplier-${run}`,
    stepDelayMs,
    log: (l) => console.log(`   ~ ${l}`),
  });
  cleanup.push(() => supplier.stop());
  const mug = `demo-mug-${run}`;
  const listingId = `demo-listing-${run}`;
  await call(
    "PUT",
    `/internal/offers/${mug}`,
    { offerId: "off-mug", unitPrice: 15000, currency: "KRW", title: "Dropshipped mug" },
    200,
  );
  await call("PUT", `/internal/inventory/${mug}`, { onHand: 100 }, 200);
  await call(
    "PUT",
    `/internal/listings/${listingId}`,
    {
      sellerId: "seller-demo",
      supplierId: supplier.supplierId,
      supplierOfferId: "mug-001",
      sellingPrice: 15000,
      currency: "KRW",
      channel: "own-shop",
      active: true,
      skuId: mug,
    },
    200,
    (a) => ({ listingId: a.body.listingId, skuId: a.body.skuId }),
  );
  const mugOrder = await call<OrderFields>(
    "POST",
    "/api/v1/orders",
    {
      ...checkout,
      idempotencyKey: `demo-${run}-4`,
      items: [{ skuId: mug, qty: 1, offerId: "off-mug", unitPrice: 15000 }],
      shippingAddress: { name: "Kim Minji", line1: "1 Sejong-daero", city: "Seoul" },
      shippingAddressId: undefined,
    },
    201,
    (a) => ({ orderId: a.body.orderId, status: a.body.status }),
  );
  await relayDelivered(mugOrder.body.orderId, listingId);
}

/** Pays the order, then follows its relay until the supplier has delivered it. */
async function relayDelivered(orderId: string, listingId: string): Promise<void> {
  await call(
    "POST",
    `/internal/orders/${orderId}/events`,
    { type: "PAYMENT_SUCCEEDED", externalId: `pay-mug-${run}` },
    200,
    (a) => ({ status: a.body.status }),
  );
  const relays = await until(
    `the relay of order ${orderId}`,
    () => get<Page<RelayFields>>(`/internal/relays?listingId=${listingId}`),
    (page) => page.items.length > 0,
  );
  const first = relays.items[0]!;
  const relayId = first.relayId;
  console.log(`   = relay ${relayId} created for order ${orderId} (orderNumber ${first.orderNumber})`);
  await until(
    `relay ${relayId} to be delivered`,
    () => get<RelayFields>(`/internal/relays/${relayId}`),
    (r) => r.status === "delivered",
  );
  console.log(`   = relay ${relayId} is delivered (supplier accepted, shipped, delivered through signed webhooks)`);
  await orderStatus(orderId, "DELIVERED");
}

/** A relay to a supplier that is down; resolves with the supplier (to recover it) and the relay's id. */
async function failedDispatch(cleanup: Cleanup): Promise<{ flaky: FlakySupplier; failedId: string }> {
  step("a supplier whose system is down: dispatch fails, the relay stays pending with lastError (no auto-heal)");
  const flaky = await flakySupplier();
  cleanup.push(() => flaky.stop());
  const flakyId = `demo-flaky-${run}`;
  const flakyListing = `demo-flaky-listing-${run}`;
  await call("PUT", `/internal/suppliers/${flakyId}`, { name: "Flaky Supplier", endpointUrl: flaky.url }, 200, (a) => ({
    supplierId: a.body.supplierId,
    endpointUrl: a.body.endpointUrl,
  }));
  await call(
    "PUT",
    `/internal/listings/${flakyListing}`,
    {
      sellerId: "seller-demo",
      supplierId: flakyId,
      supplierOfferId: "kettle-9",
      sellingPrice: 30000,
      currency: "KRW",
      channel: "smartstore",
      active: true,
    },
    200,
  );
  const relay = await call<RelayFields & { totalPrice: number }>(
    "POST",
    "/internal/relays",
    {
      listingId: flakyListing,
      quantity: 1,
      externalOrderId: `ss-${run}`,
      customerInfo: { name: "Lee Jisoo" },
      shippingInfo: { address: "2 Teheran-ro, Seoul" },
      metadata: { source: "smartstore" },
    },
    201,
    (a) => ({ relayId: a.body.relayId, status: a.body.status, totalPrice: a.body.totalPrice }),
  );
  const failedId = relay.body.relayId;
  const failed = await until(
    `the automatic dispatch of relay ${failedId} to fail`,
    () => get<RelayFields>(`/internal/relays/${failedId}`),
    (r) => r.metadata?.lastError !== undefined,
  );
  console.log(`   = relay ${failedId} is ${failed.status}, lastError ${short(failed.metadata?.lastError)}`);
  await call("POST", `/internal/relays/${failedId}/dispatch`, undefined, 502, (a) => ({
    code: a.body.code,
    detail: a.body.detail,
  }));
  return { flaky, failedId };
}

async function adminRetry(recover: () => void, failedId: string): Promise<void> {
  step("the supplier recovers; an admin retries the relay (POST /admin/relays/retry)");
  recover();
  const retried = await call<{ results?: { outcome?: string }[] }>(
    "POST",
    "/admin/relays/retry",
    { relayIds: [failedId], reason: "supplier back up" },
    200,
    (a) => a.body.results,
  );
  expect(
    retried.body.results?.[0]?.outcome === "relayed",
    `the retry should relay it, got ${short(retried.body.results)}`,
  );
  await call("GET", `/internal/relays/${failedId}`, undefined, 200, (a) => ({
    status: a.body.status,
    relayedAt: a.body.relayedAt,
    dispatchAttempts: a.body.dispatchAttempts,
  }));
}

async function orderHistory(orderId: string): Promise<void> {
  step("the first order's event history (gapless seq)");
  const history = await call<Page<{ seq: number; type: string }>>(
    "GET",
    `/api/v1/orders/${orderId}/events`,
    undefined,
    200,
    (a) => a.body.items.map((e) => `${e.seq} ${e.type}`),
  );
  const types = history.body.items.map((e) => e.type);
  expect(
    ["ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_REQUESTED", "PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED"].every(
      (t) => types.includes(t),
    ),
    `the history should hold creation, payment and shipment events, got ${types.join(", ")}`,
  );
}

async function relayAudit(relayId: string): Promise<void> {
  step("the retried relay's audit log (oldest first)");
  const audit = await call<Page<{ kind: string; success?: boolean | null; actor: string }>>(
    "GET",
    `/internal/relays/${relayId}/audit`,
    undefined,
    200,
    (a) =>
      a.body.items.map(
        (e) =>
          `${e.kind}${e.success === undefined || e.success === null ? "" : e.success ? " ok" : " failed"} by ${e.actor}`,
      ),
  );
  const kinds = audit.body.items.map((e) => `${e.kind}:${e.success}`);
  expect(
    kinds.includes("EXTERNAL_CALL:false") && kinds.includes("EXTERNAL_CALL:true"),
    `the audit should show the failed and the successful call, got ${kinds.join(", ")}`,
  );
}

async function tour(cleanup: Cleanup): Promise<void> {
  const connection = await connect(cleanup);
  const sku = `demo-book-${run}`;
  const checkout = checkoutOf(sku);
  const order = await checkoutAndReplay(sku, checkout);
  await priceChangeRefused(sku, checkout);
  await paymentThroughBus(connection, order);
  await shipment(connection.bus, order.orderId, sku);
  await cancelBeforePayment(sku, checkout);
  await dropship(cleanup, checkout);
  const { flaky, failedId } = await failedDispatch(cleanup);
  await adminRetry(flaky.recover, failedId);
  await orderHistory(order.orderId);
  await relayAudit(failedId);
}

const cleanup: Cleanup = [];
let code = 0;
try {
  await tour(cleanup);
  console.log(
    `\ndemo: every step answered as expected (${((Date.now() - started) / 1000).toFixed(1)} s). API reference: ${orderline}/docs`,
  );
} catch (error) {
  code = 1;
  const message = error instanceof DemoFailure ? error.message : ((error as Error).stack ?? String(error));
  console.error(`\ndemo FAILED at step ${stepNumber}: ${message}`);
}
for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
process.exit(code);
