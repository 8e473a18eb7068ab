/**
 * One valid request per route (route key -> path parameters, query and body); the fuzzer mutates these. Keep in
 * step with the route table: a test fails when a route has no example.
 */
export interface RouteExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

export const fixtures = {
  sku: { skuId: "fz-sku", offerId: "fz-off", unitPrice: 1000 },
};

export const examples: Record<string, RouteExample> = {
  "POST /api/v1/orders": {
    body: {
      userId: "fz-user",
      idempotencyKey: "fz-key",
      items: [{ skuId: fixtures.sku.skuId, qty: 1, offerId: fixtures.sku.offerId, unitPrice: fixtures.sku.unitPrice }],
      currency: "KRW",
      shippingAddressId: "addr-1",
      paymentMethod: "CARD",
    },
  },
  "GET /api/v1/orders": { query: { userId: "fz-user", limit: "5" } },
  "GET /api/v1/orders/{orderId}": { params: { orderId: "ORDER_ID" } },
  "GET /api/v1/orders/{orderId}/events": { params: { orderId: "ORDER_ID" }, query: { limit: "2" } },
  "POST /api/v1/orders/{orderId}/cancel": { params: { orderId: "ORDER_ID" }, body: { reason: "fuzz" } },
  "PUT /internal/offers/{skuId}": {
    params: { skuId: "fz-sku-2" },
    body: { offerId: "fz-off-2", unitPrice: 5, currency: "KRW", title: "t" },
  },
  "GET /internal/offers/{skuId}": { params: { skuId: fixtures.sku.skuId } },
  "PUT /internal/inventory/{skuId}": { params: { skuId: "fz-sku-2" }, body: { onHand: 3 } },
  "GET /internal/inventory/{skuId}": { params: { skuId: fixtures.sku.skuId } },
  "PUT /internal/carts/{cartId}": {
    params: { cartId: "fz-cart" },
    body: {
      userId: "fz-user",
      currency: "KRW",
      items: [{ skuId: fixtures.sku.skuId, qty: 1, offerId: fixtures.sku.offerId, unitPrice: 1000 }],
    },
  },
  "GET /internal/carts/{cartId}": { params: { cartId: "fz-cart" } },
  "POST /internal/orders/{orderId}/events": {
    params: { orderId: "ORDER_ID" },
    body: { type: "PAYMENT_SUCCEEDED", externalId: "fz-pay" },
  },

  "PUT /internal/listings/{listingId}": {
    params: { listingId: "fz-lst-2" },
    body: {
      sellerId: "s-1",
      supplierId: "fz-sup",
      supplierOfferId: "so-1",
      sellingPrice: 9900,
      currency: "KRW",
      channel: "smartstore",
      active: true,
    },
  },
  "GET /internal/listings/{listingId}": { params: { listingId: "fz-lst" } },
  "PUT /internal/suppliers/{supplierId}": {
    params: { supplierId: "fz-sup-2" },
    body: { name: "Supplier", endpointUrl: "SUPPLIER_URL" },
  },
  "GET /internal/suppliers/{supplierId}": { params: { supplierId: "fz-sup" } },
  "POST /internal/suppliers/{supplierId}/secret": { params: { supplierId: "fz-sup" } },
  // Unsigned: every variant must be refused (401) without a write, whatever the body.
  "POST /webhooks/suppliers/{supplierId}": {
    params: { supplierId: "fz-sup" },
    body: { type: "relay.accepted", relayId: "RELAY_ID" },
  },
  "POST /internal/relays": {
    body: {
      listingId: "fz-lst",
      quantity: 1,
      externalOrderId: "ss-fz-1",
      customerInfo: { name: "Kim", phone: "010-0000-0000" },
      shippingInfo: { address: "Seoul", carrier: null, trackingNumber: null },
      metadata: { source: "smartstore" },
    },
  },
  "GET /internal/relays": { query: { listingId: "fz-lst", limit: "5" } },
  "GET /internal/relays/{relayId}": { params: { relayId: "RELAY_ID" } },
  "PATCH /internal/relays/{relayId}": { params: { relayId: "RELAY_ID" }, body: { quantity: 2 } },
  "POST /internal/relays/{relayId}/dispatch": { params: { relayId: "RELAY_ID" } },
  "POST /internal/relays/{relayId}/events": { params: { relayId: "RELAY_ID" }, body: { type: "SUPPLIER_CONFIRMED" } },
  "GET /internal/relays/{relayId}/audit": { params: { relayId: "RELAY_ID" }, query: { limit: "3" } },
  "POST /admin/relays/retry": { body: { relayIds: ["RELAY_ID"], reason: "fuzz" } },
};
