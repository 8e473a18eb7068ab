/**
 * The single table: its physical definition (read by stacks/table.ts and by the local runtime's table
 * creation) and the key builders every access pattern goes through. See docs "Single-table design".
 *
 * Scale rules the keys obey (DynamoDB allows ~1,000 write units/s per partition key, indexes included):
 * - no constant or low-cardinality partition key: every work queue and every "many writers" list is spread
 *   over `<prefix>#<shard>` keys with `shard = hash(id) mod N`, and read by N parallel queries;
 * - every index is KEYS_ONLY, so an entry is written only when an item enters or leaves it (or its key
 *   changes), never when some other attribute of the item changes; readers fetch items by key afterwards.
 */
export type IndexProjection = "KEYS_ONLY" | "ALL" | { include: readonly string[] };

export interface IndexDefinition {
  partitionKey: string;
  sortKey: string;
  projection: IndexProjection;
}

export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  globalIndexes: {
    /** orders by user (newest first); relays by listing (sharded). */
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk", projection: "KEYS_ONLY" },
    /** work queues: orders awaiting payment by deadline (sharded); relays by status (sharded). */
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk", projection: "KEYS_ONLY" },
    /** relays whose dispatch failed: the retry queue and, past the attempt threshold, the attention list (sharded). */
    gsi3: { partitionKey: "gsi3pk", sortKey: "gsi3sk", projection: "KEYS_ONLY" },
  },
  stream: "NEW_AND_OLD_IMAGES",
  timeToLiveAttribute: "expiresAt",
} as const satisfies {
  partitionKey: string;
  sortKey: string;
  globalIndexes: Record<string, IndexDefinition>;
  stream: string;
  timeToLiveAttribute: string;
};

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
  JobLease: "JobLease",
  ListingOfSku: "ListingOfSku",
  SupplierWebhook: "SupplierWebhook",
} as const;

/**
 * Shards of each spread key. Sized so that no shard passes ~1,000 WCU/s at 20,000+ orders/s: a payment
 * deadline entry costs 1 WCU when put and 1 when deleted, so 64 shards carry 2 x 20,000 / 64 = 625 WCU/s each.
 */
export const ShardCount = {
  paymentDeadlines: 64,
  relaysByStatus: 16,
  relaysByListing: 8,
  relayRetry: 8,
} as const;

/** FNV-1a of the id: stable across processes and languages, spread evenly over ULIDs and user ids. */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** Every partition key of a spread key, for the N parallel queries that read it. */
export function allShards(prefix: string, shards: number): string[] {
  return Array.from({ length: shards }, (_, k) => `${prefix}#${k}`);
}

const pad = (n: number) => n.toString().padStart(8, "0");

export const keys = {
  order: (orderId: string) => ({ pk: `ORDER#${orderId}`, sk: "ORDER" }),
  /** One item per change of an order, holding the events of that change from `firstSeq` on. */
  orderEvent: (orderId: string, firstSeq: number) => ({ pk: `ORDER#${orderId}`, sk: `EVENT#${pad(firstSeq)}` }),
  orderEventPrefix: "EVENT#",
  /** gsi1: a user's orders by order id (ULID, so by creation time). One user never writes near 1,000/s. */
  ordersByUser: (userId: string) => `USER#${userId}`,
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: "IDEMPOTENCY" }),
  /** The SKU's main item: its offer, its shard count, and the counters of shard 0. */
  sku: (skuId: string) => ({ pk: `SKU#${skuId}`, sk: "SKU" }),
  /** Stock shard `shard` of a SKU (0 is the main item): a copy of the offer and its own counters. */
  skuShard: (skuId: string, shard: number) =>
    shard === 0 ? keys.sku(skuId) : { pk: `SKU#${skuId}#${shard}`, sk: "SKU" },
  cart: (cartId: string) => ({ pk: `CART#${cartId}`, sk: "CART" }),
  /** gsi2: orders awaiting payment, sorted by deadline, spread over `ShardCount.paymentDeadlines` keys. */
  paymentDeadlinePrefix: "PAYMENT_DUE",
  paymentDeadline: (orderId: string) => `PAYMENT_DUE#${shardOf(orderId, ShardCount.paymentDeadlines)}`,
  listing: (listingId: string) => ({ pk: `LISTING#${listingId}`, sk: "LISTING" }),
  /** The active listing that sells a SKU by dropship (a pointer maintained by the listing's PUT). */
  listingOfSku: (skuId: string) => ({ pk: `LISTING_SKU#${skuId}`, sk: "LISTING_SKU" }),
  supplier: (supplierId: string) => ({ pk: `SUPPLIER#${supplierId}`, sk: "SUPPLIER" }),
  /** A supplier webhook already applied (deduplication by `webhook-id`, kept 7 days by TTL). */
  supplierWebhook: (supplierId: string, webhookId: string) => ({
    pk: `WEBHOOK#${supplierId}#${webhookId}`,
    sk: "WEBHOOK",
  }),
  relay: (relayId: string) => ({ pk: `RELAY#${relayId}`, sk: "RELAY" }),
  /** A relay's audit entries sort by the relay version they belong to (oldest first), then by their index. */
  relayAudit: (relayId: string, version: number, index: number | string) => ({
    pk: `RELAY#${relayId}`,
    sk: `AUDIT#${pad(version)}#${index}`,
  }),
  relayAuditPrefix: "AUDIT#",
  /** gsi1: relays of a listing, by relay id, spread so one busy listing is not one key. */
  relaysByListingPrefix: (listingId: string) => `LISTING#${listingId}`,
  relaysByListing: (listingId: string, relayId: string) =>
    `LISTING#${listingId}#${shardOf(relayId, ShardCount.relaysByListing)}`,
  /** gsi2: relays in a status, by relay id, spread over `ShardCount.relaysByStatus` keys. */
  relaysByStatusPrefix: (status: string) => `RELAY_STATUS#${status}`,
  relaysByStatus: (status: string, relayId: string) =>
    `RELAY_STATUS#${status}#${shardOf(relayId, ShardCount.relaysByStatus)}`,
  /** gsi3: pending relays with a failed attempt: to retry, or (past the attempt threshold) needing attention. */
  relayQueuePrefix: (queue: RelayQueue) => `RELAY_${queue}`,
  relayQueue: (queue: RelayQueue, relayId: string) => `RELAY_${queue}#${shardOf(relayId, ShardCount.relayRetry)}`,
  relayOrderNumber: (orderNumber: string) => ({ pk: `RELAY_ORDER_NUMBER#${orderNumber}`, sk: "UNIQUE" }),
  relayByExternalOrder: (listingId: string, externalOrderId: string) => ({
    pk: `RELAY_EXTERNAL#${listingId}#${externalOrderId}`,
    sk: "UNIQUE",
  }),
  relayByEcommerceOrder: (orderId: string) => ({ pk: `RELAY_ECOMMERCE#${orderId}`, sk: "UNIQUE" }),
  /** A background job's lease: two runs of one job never overlap. */
  jobLease: (job: string) => ({ pk: `JOB#${job}`, sk: "LEASE" }),
} as const;

export type RelayQueue = "RETRY" | "ATTENTION";

/** Attributes that exist only for the table layout; stripped before an item leaves the store. */
export const layoutAttributes = [
  "pk",
  "sk",
  "gsi1pk",
  "gsi1sk",
  "gsi2pk",
  "gsi2sk",
  "gsi3pk",
  "gsi3sk",
  "entity",
  "expiresAt",
] as const;

export function stripLayout<T extends Record<string, unknown>>(item: T): Omit<T, (typeof layoutAttributes)[number]> {
  const copy: Record<string, unknown> = { ...item };
  for (const attr of layoutAttributes) delete copy[attr];
  return copy as Omit<T, (typeof layoutAttributes)[number]>;
}
