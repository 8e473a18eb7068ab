/**
 * The single table: its physical definition (read by stacks/Data.ts and by the local runtime's table
 * creation) and the key builders every access pattern goes through. See README "Single-table design".
 */
export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  globalIndexes: {
    /** orders by user (newest first), relays by listing. */
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    /** work queues: orders awaiting payment by deadline, relays by status. */
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  },
  stream: "NEW_AND_OLD_IMAGES",
  timeToLiveAttribute: "expiresAt",
} as const;

export type GlobalIndexName = keyof typeof tableDefinition.globalIndexes;

/** `entity` attribute values; the stream publisher filters on them. */
export const Entity = {
  Order: "Order",
  OrderEvent: "OrderEvent",
  Idempotency: "Idempotency",
  Sku: "Sku",
  Cart: "Cart",
  Listing: "Listing",
  Supplier: "Supplier",
  Relay: "Relay",
  RelayAudit: "RelayAudit",
  RelayUnique: "RelayUnique",
} as const;

const pad = (n: number) => n.toString().padStart(8, "0");

export const keys = {
  order: (orderId: string) => ({ pk: `ORDER#${orderId}`, sk: "ORDER" }),
  orderEvent: (orderId: string, seq: number) => ({ pk: `ORDER#${orderId}`, sk: `EVENT#${pad(seq)}` }),
  orderEventPrefix: "EVENT#",
  ordersByUser: (userId: string) => `USER#${userId}`,
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: "IDEMPOTENCY" }),
  sku: (skuId: string) => ({ pk: `SKU#${skuId}`, sk: "SKU" }),
  cart: (cartId: string) => ({ pk: `CART#${cartId}`, sk: "CART" }),
  paymentDeadlines: "PAYMENT_DEADLINE",
  listing: (listingId: string) => ({ pk: `LISTING#${listingId}`, sk: "LISTING" }),
  supplier: (supplierId: string) => ({ pk: `SUPPLIER#${supplierId}`, sk: "SUPPLIER" }),
  relay: (relayId: string) => ({ pk: `RELAY#${relayId}`, sk: "RELAY" }),
  /** A relay's audit entries sort by the relay version they belong to (oldest first), then by their index. */
  relayAudit: (relayId: string, version: number, index: number | string) => ({
    pk: `RELAY#${relayId}`,
    sk: `AUDIT#${pad(version)}#${index}`,
  }),
  relayAuditPrefix: "AUDIT#",
  /** gsi1: relays of a listing, by relay id (ULID, so by creation time). */
  relaysByListing: (listingId: string) => `LISTING#${listingId}`,
  /** gsi2: relays in a status, by relay id; `pending` filtered on `metadata.lastError` is the retry queue. */
  relaysByStatus: (status: string) => `RELAY_STATUS#${status}`,
  relayOrderNumber: (orderNumber: string) => ({ pk: `RELAY_ORDER_NUMBER#${orderNumber}`, sk: "UNIQUE" }),
  relayByExternalOrder: (listingId: string, externalOrderId: string) => ({
    pk: `RELAY_EXTERNAL#${listingId}#${externalOrderId}`,
    sk: "UNIQUE",
  }),
  relayByEcommerceOrder: (orderId: string) => ({ pk: `RELAY_ECOMMERCE#${orderId}`, sk: "UNIQUE" }),
} as const;

/** Attributes that exist only for the table layout; stripped before an item leaves the store. */
export const layoutAttributes = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "entity", "expiresAt"] as const;

export function stripLayout<T extends Record<string, unknown>>(item: T): Omit<T, (typeof layoutAttributes)[number]> {
  const copy: Record<string, unknown> = { ...item };
  for (const attr of layoutAttributes) delete copy[attr];
  return copy as Omit<T, (typeof layoutAttributes)[number]>;
}
