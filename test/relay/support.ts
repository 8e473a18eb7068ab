import { ulid } from "ulid";
import { afterAll, beforeAll, expect } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { setEnv } from "../support/env.js";
import { client, startTestRuntime } from "../support/runtime.js";
import { type FakeSupplier, startSupplier } from "./supplier.js";

/** Shared helpers of the relay suites: seed reference data, create relays, drive their first dispatch. */
export const SECRET = "test-signing-secret";

/** Settings every relay suite runs with: a short supplier timeout keeps the hang tests fast. */
export function relayTestEnv(): void {
  setEnv({
    SUPPLIER_SIGNING_SECRET: SECRET,
    ORDERLINE_SUPPLIER_TIMEOUT_MS: "300",
    ORDERLINE_SUPPLIER_RETRY_DELAY_MS: "10",
    ORDERLINE_RELAY_ATTEMPT_THRESHOLD: "3",
  });
}

type Call = ReturnType<typeof client>;

export { expectProblem } from "../support/runtime.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function relayKit(call: Call, supplier: FakeSupplier, options: { autoDispatch: () => boolean }) {
  const unique = (prefix: string) => `${prefix}-${ulid().toLowerCase()}`;

  async function newSupplier(endpointUrl = `${supplier.url}/orders`) {
    const supplierId = unique("sup");
    const put = await call("PUT", `/internal/suppliers/${supplierId}`, { name: "Acme Supply", endpointUrl });
    expect(put.status).toBe(200);
    return supplierId;
  }

  async function newListing(options: { price?: number; supplierId?: string } = {}) {
    const listingId = unique("lst");
    const supplierId = options.supplierId ?? (await newSupplier());
    const put = await call("PUT", `/internal/listings/${listingId}`, {
      sellerId: "seller-1",
      supplierId,
      supplierOfferId: `offer-${listingId}`,
      sellingPrice: options.price ?? 15000,
      currency: "KRW",
      channel: "smartstore",
      active: true,
    });
    expect(put.status).toBe(200);
    return { listingId, supplierId, supplierOfferId: `offer-${listingId}` };
  }

  function relayBody(listingId: string, overrides: Record<string, unknown> = {}) {
    return {
      listingId,
      quantity: 2,
      externalOrderId: unique("ss"),
      ecommerceOrderId: null,
      customerInfo: { name: "Kim Minji", phone: "010-1234-5678" },
      shippingInfo: { address: "1 Sejong-daero, Seoul", carrier: null, trackingNumber: null },
      metadata: { source: "smartstore" },
      ...overrides,
    };
  }

  async function create(
    listingId: string,
    overrides: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    const response = await call("POST", "/internal/relays", relayBody(listingId, overrides), headers);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as Record<string, any>;
  }

  async function get(relayId: string) {
    const response = await call("GET", `/internal/relays/${relayId}`);
    expect(response.status).toBe(200);
    return response.body as Record<string, any>;
  }

  async function audit(relayId: string) {
    const response = await call("GET", `/internal/relays/${relayId}/audit?limit=100`);
    expect(response.status).toBe(200);
    return response.body.items as Record<string, any>[];
  }

  /** Whether the relay's latest dispatch attempt has finished (it reached an answer or recorded its failure). */
  const attemptDone = (relay: Record<string, any>) =>
    relay.dispatchAttempts >= 1 &&
    (relay.status !== "pending" || relay.metadata?.lastError?.attempt === relay.dispatchAttempts);

  async function waitFor(relayId: string, done: (relay: Record<string, any>) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const relay = await get(relayId);
      if (done(relay)) return relay;
      if (Date.now() > deadline) throw new Error(`relay ${relayId} did not settle: ${JSON.stringify(relay)}`);
      await sleep(50);
    }
  }

  /**
   * The relay's first dispatch: the automatic one (stream -> RELAY_CREATED -> dispatcher) when the runtime runs the
   * event pipeline, else the on-demand dispatch. Returns the relay once the attempt has finished.
   */
  async function firstDispatch(relayId: string, actor = "ops-tester") {
    if (options.autoDispatch()) return waitFor(relayId, attemptDone);
    const response = await call("POST", `/internal/relays/${relayId}/dispatch`, undefined, { "x-actor": actor });
    expect([200, 502]).toContain(response.status);
    return get(relayId);
  }

  /** A relay of a fresh listing whose supplier answers with `behaviour` on the first dispatch. */
  async function relayAfterFirstDispatch(
    behaviour: Parameters<FakeSupplier["behave"]>[1],
    overrides: Record<string, unknown> = {},
  ) {
    const listing = await newListing();
    supplier.behave(listing.listingId, behaviour);
    const created = await create(listing.listingId, overrides);
    const relay = await firstDispatch(created.relayId as string);
    return { listing, relay };
  }

  async function event(relayId: string, type: string, extra: Record<string, unknown> = {}, actor = "ops-tester") {
    return call("POST", `/internal/relays/${relayId}/events`, { type, ...extra }, { "x-actor": actor });
  }

  /** A relay driven to `status` through the API. */
  async function relayIn(status: string, overrides: Record<string, unknown> = {}) {
    if (status === "pending") return (await relayAfterFirstDispatch("fail", overrides)).relay;
    const { relay } = await relayAfterFirstDispatch("accept", overrides);
    expect(relay.status).toBe("relayed");
    const path: Record<string, [string, Record<string, unknown>?][]> = {
      relayed: [],
      confirmed: [["SUPPLIER_CONFIRMED"]],
      shipped: [["SUPPLIER_CONFIRMED"], ["SHIPPED", { shippingInfo: { carrier: "CJ", trackingNumber: "CJ-100" } }]],
      delivered: [
        ["SUPPLIER_CONFIRMED"],
        ["SHIPPED", { shippingInfo: { carrier: "CJ", trackingNumber: "CJ-100" } }],
        ["DELIVERED"],
      ],
      cancelled: [["CANCELLED", { reason: "buyer cancelled" }]],
      refunded: [["SUPPLIER_CONFIRMED"], ["SHIPPED"], ["DELIVERED"], ["REFUNDED", { reason: "returned" }]],
    };
    for (const [type, extra] of path[status] ?? []) {
      const moved = await event(relay.relayId, type, extra);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }
    const final = await get(relay.relayId);
    expect(final.status).toBe(status);
    return final;
  }

  /** An order of the order domain (Ecommerce Core's EcommerceOrder in DS-4.1 terms), placed through the public API. */
  async function placeOrder(unitPrice = 15000): Promise<string> {
    const skuId = unique("sku");
    expect(
      (await call("PUT", `/internal/offers/${skuId}`, { offerId: "off-1", unitPrice, currency: "KRW" })).status,
    ).toBe(200);
    expect((await call("PUT", `/internal/inventory/${skuId}`, { onHand: 5 })).status).toBe(200);
    const order = await call("POST", "/api/v1/orders", {
      userId: "u-relay",
      idempotencyKey: unique("k"),
      items: [{ skuId, qty: 1, offerId: "off-1", unitPrice }],
      currency: "KRW",
      shippingAddressId: "addr-1",
      paymentMethod: "CARD",
    });
    expect(order.status).toBe(201);
    return order.body.orderId as string;
  }

  return {
    unique,
    newSupplier,
    newListing,
    relayBody,
    create,
    get,
    audit,
    waitFor,
    attemptDone,
    firstDispatch,
    relayAfterFirstDispatch,
    event,
    relayIn,
    placeOrder,
  };
}

export interface RelaySuite {
  runtime: LocalRuntime;
  supplier: FakeSupplier;
  call: Call;
  kit: ReturnType<typeof relayKit>;
  /** Whether the runtime dispatches new relays by itself (stream -> bus -> dispatcher). */
  autoDispatch: boolean;
}

/**
 * The setup of every relay suite over HTTP: the relay settings, the local runtime on a fresh table and a real
 * supplier server, started before the suite's tests and stopped after them. Read the fields inside tests.
 */
export function useRelaySuite(hooks: { before?: () => void; after?: () => void } = {}): RelaySuite {
  relayTestEnv();
  const suite = { autoDispatch: false } as RelaySuite;
  beforeAll(async () => {
    hooks.before?.();
    suite.runtime = await startTestRuntime();
    suite.supplier = await startSupplier();
    suite.call = client(suite.runtime.url);
    suite.autoDispatch = Boolean((await suite.call("GET", "/health")).body?.eventBusEndpoint);
    suite.kit = relayKit(suite.call, suite.supplier, { autoDispatch: () => suite.autoDispatch });
  });
  afterAll(async () => {
    hooks.after?.();
    await suite.runtime?.stop();
    await suite.supplier?.stop();
  });
  return suite;
}
