import { describe, expect, it } from "vitest";
import { routes } from "../../functions/routes.js";
import { scanTable } from "../support/fixtures.js";
import { expectProblem, useRelaySuite } from "./support.js";

// Relay creation, reference data, queries and the forbidden-data rule, over real HTTP on the local runtime.

const suite = useRelaySuite();

const placeOrder = () => suite.kit.placeOrder(15000);

const relayItems = async () => (await scanTable()).filter((i) => i.entity === "Relay");

/**
 * Items written since `before`, leaving out the audit entries that dispatches of relays created earlier may
 * still be adding in the background (the runtime dispatches new relays automatically).
 */
async function writtenSince(before: Record<string, unknown>[]) {
  const known = new Set(before.map((i) => `${String(i.pk)}|${String(i.sk)}`));
  const earlierRelays = new Set(before.filter((i) => i.entity === "Relay").map((i) => i.relayId));
  return (await scanTable()).filter(
    (i) =>
      !known.has(`${String(i.pk)}|${String(i.sk)}`) && !(i.entity === "RelayAudit" && earlierRelays.has(i.relayId)),
  );
}

describe("reference data: listings and suppliers", () => {
  it("stores and reads a listing and a supplier", async () => {
    const listing = await suite.kit.newListing({ price: 9900 });
    const read = await suite.call("GET", `/internal/listings/${listing.listingId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      listingId: listing.listingId,
      sellingPrice: 9900,
      currency: "KRW",
      supplierId: listing.supplierId,
      active: true,
    });
    const sup = await suite.call("GET", `/internal/suppliers/${listing.supplierId}`);
    expect(sup.status).toBe(200);
    expect(sup.body.endpointUrl).toBe(`${suite.supplier.url}/orders`);
  });

  it("answers 404 LISTING_NOT_FOUND / SUPPLIER_NOT_FOUND and 400 for a bad endpoint", async () => {
    expectProblem(await suite.call("GET", "/internal/listings/nope"), 404, "LISTING_NOT_FOUND");
    expectProblem(await suite.call("GET", "/internal/suppliers/nope"), 404, "SUPPLIER_NOT_FOUND");
    expectProblem(
      await suite.call("PUT", "/internal/suppliers/s-bad", { name: "x", endpointUrl: "ftp://example.com" }),
      400,
      "VALIDATION_ERROR",
    );
  });
});

describe("POST /internal/relays", () => {
  it("creates a pending relay: price copied from the listing, total computed, readable unique order number", async () => {
    const listing = await suite.kit.newListing({ price: 12345 });
    const response = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, { quantity: 3 }),
      { "x-actor": "channel-sync" },
    );
    expect(response.status).toBe(201);
    const relay = response.body;
    expect(response.headers.get("location")).toBe(`/internal/relays/${relay.relayId}`);
    expect(relay).toMatchObject({
      listingId: listing.listingId,
      quantity: 3,
      unitPrice: 12345,
      totalPrice: 12345 * 3,
      currency: "KRW",
      status: "pending",
      ecommerceOrderId: null,
      metadata: { source: "smartstore" },
      relayedAt: null,
      confirmedAt: null,
      shippedAt: null,
      deliveredAt: null,
      version: 1,
    });
    expect(relay.orderNumber).toMatch(/^DS-\d{8}-[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(new Date(relay.createdAt).toISOString()).toBe(relay.createdAt);
    // An auto dispatch may already have moved it; its creation fields do not change.
    expect(await suite.kit.get(relay.relayId)).toMatchObject({
      relayId: relay.relayId,
      orderNumber: relay.orderNumber,
      unitPrice: 12345,
    });
  });

  it("gives every relay its own order number", async () => {
    const listing = await suite.kit.newListing();
    const numbers = new Set<string>();
    for (let i = 0; i < 10; i++) numbers.add((await suite.kit.create(listing.listingId)).orderNumber as string);
    expect(numbers.size).toBe(10);
  });

  it("never lets a caller set a price (Dropshipping does not price): unitPrice/totalPrice in the body are refused", async () => {
    const listing = await suite.kit.newListing();
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, { unitPrice: 1 })),
      400,
      "VALIDATION_ERROR",
    );
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, { totalPrice: 1 })),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("keeps the copied price when the listing's price changes later", async () => {
    const listing = await suite.kit.newListing({ price: 10000 });
    const relay = await suite.kit.create(listing.listingId);
    const reprice = await suite.call("PUT", `/internal/listings/${listing.listingId}`, {
      sellerId: "seller-1",
      supplierId: listing.supplierId,
      supplierOfferId: listing.supplierOfferId,
      sellingPrice: 20000,
      currency: "KRW",
      channel: "smartstore",
      active: true,
    });
    expect(reprice.status).toBe(200);
    expect((await suite.kit.get(relay.relayId)).unitPrice).toBe(10000);
    expect((await suite.kit.create(listing.listingId)).unitPrice).toBe(20000);
  });

  it("requires listingId (400) and an existing listing (404 LISTING_NOT_FOUND), storing nothing", async () => {
    const before = await scanTable();
    const { listingId: _omit, ...withoutListing } = suite.kit.relayBody("x");
    expectProblem(await suite.call("POST", "/internal/relays", withoutListing), 400, "VALIDATION_ERROR");
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody("lst-does-not-exist")),
      404,
      "LISTING_NOT_FOUND",
    );
    expect(await writtenSince(before)).toEqual([]);
  });

  it("requires externalOrderId or ecommerceOrderId unless metadata.source is manual", async () => {
    const listing = await suite.kit.newListing();
    const noIds = { externalOrderId: null, ecommerceOrderId: null };
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, noIds)),
      400,
      "VALIDATION_ERROR",
    );
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, { ...noIds, metadata: {} })),
      400,
      "VALIDATION_ERROR",
    );
    // Manual relays have no external id (DS-4.1 §5.1 exception), so two of them are two relays.
    const a = await suite.kit.create(listing.listingId, { ...noIds, metadata: { source: "manual" } });
    const b = await suite.kit.create(listing.listingId, { ...noIds, metadata: { source: "manual" } });
    expect(a.relayId).not.toBe(b.relayId);
  });

  it("requires ecommerceOrderId for an order taken on the platform (metadata.source ecommerce, DS-4.1 §8)", async () => {
    const listing = await suite.kit.newListing();
    const response = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, { metadata: { source: "ecommerce" } }),
    );
    expectProblem(response, 400, "VALIDATION_ERROR");
    expect(JSON.stringify(response.body.errors)).toContain("ecommerceOrderId");
  });

  it("refuses an ecommerceOrderId that names no order with 422 ECOMMERCE_ORDER_NOT_FOUND, storing nothing", async () => {
    const listing = await suite.kit.newListing();
    const before = await scanTable();
    const response = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, { ecommerceOrderId: "01NOSUCHORDER", metadata: { source: "ecommerce" } }),
    );
    expectProblem(response, 422, "ECOMMERCE_ORDER_NOT_FOUND");
    expect(await writtenSince(before)).toEqual([]);
  });

  it("links an existing order and lets one order back only one relay (a repeat returns the existing relay)", async () => {
    const orderId = await placeOrder();
    const listing = await suite.kit.newListing();
    const first = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, {
        externalOrderId: null,
        ecommerceOrderId: orderId,
        metadata: { source: "ecommerce" },
      }),
    );
    expect(first.status).toBe(201);
    expect(first.body.ecommerceOrderId).toBe(orderId);
    const again = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, {
        externalOrderId: "other-ext",
        ecommerceOrderId: orderId,
        metadata: { source: "ecommerce" },
      }),
    );
    expect(again.status).toBe(200);
    expect(again.body.relayId).toBe(first.body.relayId);
    const otherListing = await suite.kit.newListing();
    const elsewhere = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(otherListing.listingId, { ecommerceOrderId: orderId }),
    );
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.relayId).toBe(first.body.relayId);
  });

  it("returns the existing relay (200, Idempotent-Replayed) for the same (listingId, externalOrderId) and creates nothing", async () => {
    const listing = await suite.kit.newListing();
    const body = suite.kit.relayBody(listing.listingId, { externalOrderId: "ss-20261124-001" });
    const first = await suite.call("POST", "/internal/relays", body);
    expect(first.status).toBe(201);
    const repeat = await suite.call("POST", "/internal/relays", { ...body, quantity: 9 });
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(repeat.body.relayId).toBe(first.body.relayId);
    expect(repeat.body.quantity).toBe(2);
    const listed = await suite.call("GET", `/internal/relays?listingId=${listing.listingId}`);
    expect(listed.body.items).toHaveLength(1);
    // The same external id on another listing is another order.
    const other = await suite.kit.newListing();
    expect(
      (
        await suite.call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(other.listingId, { externalOrderId: "ss-20261124-001" }),
        )
      ).status,
    ).toBe(201);
  });

  it("creates exactly one relay for 20 concurrent repeats, and none of them fails", async () => {
    const listing = await suite.kit.newListing();
    const body = suite.kit.relayBody(listing.listingId, { externalOrderId: suite.kit.unique("race") });
    const responses = await Promise.all(Array.from({ length: 20 }, () => suite.call("POST", "/internal/relays", body)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(new Set(responses.map((r) => r.body.relayId)).size).toBe(1);
    const stored = (await relayItems()).filter((i) => i.listingId === listing.listingId);
    expect(stored).toHaveLength(1);
    const created = (await suite.kit.audit(responses[0]!.body.relayId)).filter(
      (a) => a.before === null && a.kind === "STATUS_CHANGE",
    );
    expect(created).toHaveLength(1);
  });

  it("creates exactly one relay for 20 concurrent repeats of one ecommerce order", async () => {
    const orderId = await placeOrder();
    const listing = await suite.kit.newListing();
    const body = suite.kit.relayBody(listing.listingId, {
      externalOrderId: null,
      ecommerceOrderId: orderId,
      metadata: { source: "ecommerce" },
    });
    const responses = await Promise.all(Array.from({ length: 20 }, () => suite.call("POST", "/internal/relays", body)));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(19);
    expect(new Set(responses.map((r) => r.body.relayId)).size).toBe(1);
  });

  it("rejects unknown fields and a caller-written metadata.lastError", async () => {
    const listing = await suite.kit.newListing();
    expectProblem(
      await suite.call("POST", "/internal/relays", suite.kit.relayBody(listing.listingId, { status: "relayed" })),
      400,
      "VALIDATION_ERROR",
    );
    expectProblem(
      await suite.call(
        "POST",
        "/internal/relays",
        suite.kit.relayBody(listing.listingId, { metadata: { source: "erp", lastError: "x" } }),
      ),
      400,
      "VALIDATION_ERROR",
    );
  });
});

describe("relay totals stay exact and storable (at most 1e15 minor units)", () => {
  const maxPrice = 1_000_000_000_000; // the largest selling price a listing may have

  it("refuses a create whose total would exceed the bound with 400 VALIDATION_ERROR naming quantity, storing nothing", async () => {
    const listing = await suite.kit.newListing({ price: maxPrice });
    const before = await scanTable();
    for (const quantity of [1001, 9999]) {
      const response = await suite.call(
        "POST",
        "/internal/relays",
        suite.kit.relayBody(listing.listingId, { quantity }),
      );
      expectProblem(response, 400, "VALIDATION_ERROR");
      expect(response.body.errors).toEqual([expect.objectContaining({ path: "quantity" })]);
    }
    expect(await writtenSince(before)).toEqual([]);
    const atBound = await suite.kit.create(listing.listingId, { quantity: 1000 });
    expect(atBound).toMatchObject({ unitPrice: maxPrice, quantity: 1000, totalPrice: 1e15 });
  });

  it("refuses a PATCH of quantity whose total would exceed the bound, changing nothing", async () => {
    const listing = await suite.kit.newListing({ price: maxPrice });
    suite.supplier.behave(listing.listingId, "fail");
    const relay = await suite.kit.firstDispatch((await suite.kit.create(listing.listingId, { quantity: 1 })).relayId);
    expect(relay.status).toBe("pending");
    const refused = await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { quantity: 9999 });
    expectProblem(refused, 400, "VALIDATION_ERROR");
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: "quantity" })]);
    expect(await suite.kit.get(relay.relayId)).toMatchObject({
      version: relay.version,
      quantity: 1,
      totalPrice: maxPrice,
    });
    const patched = await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { quantity: 1000 });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ quantity: 1000, totalPrice: 1e15 });
  });
});

describe("forbidden data (DS-4.1 §6.3): refused, never stored", () => {
  const pan = "4111111111111111";
  const variants: [string, Record<string, unknown>][] = [
    ["a card number in customerInfo", { customerInfo: { name: "Kim", note: "4111 1111 1111 1111" } }],
    [
      "a dashed card number in shippingInfo",
      { shippingInfo: { address: "Seoul", memo: "pay with 4111-1111-1111-1111" } },
    ],
    ["a card number as a JSON number in metadata", { metadata: { source: "erp", ref: 4111111111111111 } }],
    ["an Amex number nested in an address", { shippingInfo: { address: { line1: "3782 822463 10005" } } }],
    ["a password key", { customerInfo: { name: "Kim", password: "hunter2-secret-value" } }],
    ["a token key in metadata", { metadata: { source: "erp", accessToken: "tok_live_abcdef" } }],
    ["a secret key", { metadata: { source: "erp", clientSecret: "s3cr3t-value" } }],
    ["credentials", { metadata: { source: "erp", credentials: { user: "u", pass: "p" } } }],
    ["a cvv", { customerInfo: { name: "Kim", cvv: "123" } }],
  ];

  it.each(variants)("refuses %s with 400 FORBIDDEN_DATA naming the path, not the value", async (_label, overrides) => {
    const listing = await suite.kit.newListing();
    const externalOrderId = suite.kit.unique("forbidden");
    const before = await scanTable();
    const response = await suite.call(
      "POST",
      "/internal/relays",
      suite.kit.relayBody(listing.listingId, { ...overrides, externalOrderId }),
    );
    expect(await writtenSince(before)).toEqual([]);
    expectProblem(response, 400, "FORBIDDEN_DATA");
    expect(response.body.violations.length).toBeGreaterThan(0);
    const text = JSON.stringify(response.body);
    for (const secret of [
      pan,
      "4111 1111",
      "4111-1111",
      "378282246310005",
      "3782 822463",
      "hunter2",
      "tok_live",
      "s3cr3t",
    ])
      expect(text).not.toContain(secret);
    const listed = await suite.call("GET", `/internal/relays?listingId=${listing.listingId}`);
    expect(listed.body.items).toHaveLength(0);
  });

  it("leaves no trace of refused card data or credentials anywhere in the table", async () => {
    // Sends every refused variant itself (create, PATCH, event), so it proves the same alone as after the others.
    const listing = await suite.kit.newListing();
    for (const [, overrides] of variants) {
      const response = await suite.call(
        "POST",
        "/internal/relays",
        suite.kit.relayBody(listing.listingId, { ...overrides, externalOrderId: suite.kit.unique("forbidden") }),
      );
      expectProblem(response, 400, "FORBIDDEN_DATA");
    }
    // An accepted relay: the scan below does see what relays store (its marker), just not what was refused.
    const kept = await suite.kit.create(listing.listingId, { customerInfo: { name: "trace-marker-kept" } });
    for (const [, overrides] of variants.filter(([, o]) => "customerInfo" in o || "shippingInfo" in o)) {
      expectProblem(await suite.call("PATCH", `/internal/relays/${kept.relayId}`, overrides), 400, "FORBIDDEN_DATA");
    }
    expectProblem(await suite.kit.event(kept.relayId, "CANCELLED", { reason: `card ${pan}` }), 400, "FORBIDDEN_DATA");
    const everything = JSON.stringify(await scanTable());
    expect(everything).toContain("trace-marker-kept");
    const digitsOnly = everything.replace(/[ -]/g, "");
    expect(digitsOnly).not.toContain(pan);
    expect(digitsOnly).not.toContain("378282246310005");
    for (const secret of ["hunter2", "tok_live", "s3cr3t-value", "forbidden-"])
      expect(everything).not.toContain(secret);
  });

  it("accepts dates, postcodes and phone numbers next to each other (not card layouts)", async () => {
    const listing = await suite.kit.newListing();
    const customerInfo = { name: "Kim", memo: "주문 2026-11-24 010-9876-5432" };
    const shippingInfo = { address: "서울 강남구 06004 010-1234-5678" };
    const created = await suite.kit.create(listing.listingId, { customerInfo, shippingInfo });
    expect(created.customerInfo).toEqual(customerInfo);
    expect(created.shippingInfo.address).toBe(shippingInfo.address);
  });

  it("accepts 16 digits that fail the Luhn check (not a card number)", async () => {
    const listing = await suite.kit.newListing();
    const created = await suite.kit.create(listing.listingId, {
      customerInfo: { name: "Kim", memo: "4111 1111 1111 1112" },
    });
    expect(created.customerInfo.memo).toBe("4111 1111 1111 1112");
  });

  it("refuses card data in a PATCH and in an event's shippingInfo, changing nothing", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("fail");
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { customerInfo: { note: pan } }),
      400,
      "FORBIDDEN_DATA",
    );
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { shippingInfo: { authToken: "abc" } }),
      400,
      "FORBIDDEN_DATA",
    );
    expectProblem(await suite.kit.event(relay.relayId, "CANCELLED", { reason: `card ${pan}` }), 400, "FORBIDDEN_DATA");
    const after = await suite.kit.get(relay.relayId);
    expect(after.version).toBe(relay.version);
    expect(JSON.stringify(after)).not.toContain(pan);
  });
});

describe("queries", () => {
  it("lists a listing's relays newest first with pagination, by status, and by both", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.behave(listing.listingId, "fail");
    const a = await suite.kit.create(listing.listingId);
    const b = await suite.kit.create(listing.listingId);
    await suite.kit.firstDispatch(a.relayId);
    await suite.kit.firstDispatch(b.relayId);
    const page1 = await suite.call("GET", `/internal/relays?listingId=${listing.listingId}&limit=1`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((r: any) => r.relayId)).toEqual([b.relayId]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await suite.call(
      "GET",
      `/internal/relays?listingId=${listing.listingId}&limit=1&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((r: any) => r.relayId)).toEqual([a.relayId]);

    const byBoth = await suite.call("GET", `/internal/relays?listingId=${listing.listingId}&status=pending`);
    expect(byBoth.body.items).toHaveLength(2);
    expect(
      (await suite.call("GET", `/internal/relays?listingId=${listing.listingId}&status=relayed`)).body.items,
    ).toHaveLength(0);
    const byStatus = await suite.call("GET", `/internal/relays?status=pending&limit=100`);
    expect(byStatus.body.items.map((r: any) => r.relayId)).toEqual(expect.arrayContaining([a.relayId, b.relayId]));
  });

  it("validates queries and answers 404 for an unknown relay", async () => {
    expectProblem(await suite.call("GET", "/internal/relays"), 400, "VALIDATION_ERROR");
    expectProblem(await suite.call("GET", "/internal/relays?status=lost"), 400, "VALIDATION_ERROR");
    expectProblem(await suite.call("GET", "/internal/relays/01UNKNOWN"), 404, "NOT_FOUND");
    expectProblem(await suite.call("GET", "/internal/relays/01UNKNOWN/audit"), 404, "NOT_FOUND");
    expectProblem(await suite.call("PATCH", "/internal/relays/01UNKNOWN", { quantity: 1 }), 404, "NOT_FOUND");
    expectProblem(await suite.call("POST", "/internal/relays/01UNKNOWN/dispatch"), 404, "NOT_FOUND");
  });
});

describe("no customer-facing relay API (DS-4.1 §4.1)", () => {
  it("declares every relay route under /internal or /admin with IAM auth (suppliers' signed webhooks aside), none under /api/v1", () => {
    const relayRoutes = routes.filter((r) => /relay|listing|supplier/.test(r.path) && !r.path.startsWith("/webhooks/"));
    expect(relayRoutes.length).toBeGreaterThanOrEqual(12);
    for (const route of relayRoutes) {
      expect(route.path).toMatch(/^\/(internal|admin)\//);
      expect(route.auth).toBe("iam");
    }
    // The one route a supplier calls: no IAM, authenticated by its signature, never customer-facing.
    expect(routes.filter((r) => r.path.startsWith("/webhooks/")).map((r) => [r.method, r.path, r.auth])).toEqual([
      ["POST", "/webhooks/suppliers/{supplierId}", "signature"],
    ]);
    expect(
      routes.filter((r) => r.path.startsWith("/api/v1")).every((r) => !/relay|listing|supplier/.test(r.path)),
    ).toBe(true);
  });

  it("answers 404 for relay paths under /api/v1", async () => {
    for (const [method, path] of [
      ["POST", "/api/v1/relays"],
      ["GET", "/api/v1/relays"],
      ["GET", "/api/v1/relays/x"],
      ["POST", "/api/v1/relays/x/cancel"],
    ] as const)
      expectProblem(await suite.call(method, path, method === "POST" ? {} : undefined), 404, "NOT_FOUND");
  });
});
