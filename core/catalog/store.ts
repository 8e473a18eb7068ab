import { Entity, keys } from "../store/table.js";
import type { TransactItem } from "../store/transact.js";
import type { OfferInput } from "./sku.js";

/**
 * The catalog's writes of SKU items (the main item and its stock shards, see shards.ts): offers, stock on hand and
 * stock moved between shards; orders' holds on stock are in store-reservations.ts. The domain decides what changes,
 * these say it to DynamoDB. Every change of the counters keeps `available = onHand - reserved` on the item it
 * touches and bumps `stockVersion` (reconciliation conditions its fix on it).
 */

const SET_OFFER =
  "offerId = :offerId, unitPrice = :unitPrice, currency = :currency, title = :title, offerUpdatedAt = :at";

function offerValues(offer: OfferInput, at: string): Record<string, unknown> {
  return {
    ":offerId": offer.offerId,
    ":unitPrice": offer.unitPrice,
    ":currency": offer.currency,
    ":title": offer.title ?? null,
    ":at": at,
  };
}

/**
 * The offer on the SKU's main item (created when missing), asserting the number of shard slots the writer read: a
 * concurrent re-shard then refuses it, so no shard keeps a stale copy.
 */
export function offerUpdate(
  tableName: string,
  skuId: string,
  offer: OfferInput,
  at: string,
  slots: number,
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.sku(skuId),
      UpdateExpression: `SET entity = :entity, skuId = :skuId, ${SET_OFFER} ADD offerVersion :one`,
      ConditionExpression:
        slots === 1 ? "attribute_not_exists(shardSlots) OR shardSlots = :slots" : "shardSlots = :slots",
      ExpressionAttributeValues: {
        ":entity": Entity.Sku,
        ":skuId": skuId,
        ":one": 1,
        ":slots": slots,
        ...offerValues(offer, at),
      },
    },
  };
}

/** The copy of the offer on an existing stock shard (k > 0). */
export function offerCopyUpdate(
  tableName: string,
  skuId: string,
  shard: number,
  offer: OfferInput,
  at: string,
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(skuId, shard),
      UpdateExpression: `SET ${SET_OFFER}`,
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: offerValues(offer, at),
    },
  };
}

/** What a stock change writes on one shard item. */
export interface ShardStock {
  skuId: string;
  shard: number;
  onHand: number;
  /** Shard 0 only: the counts it records, and the offer version and slot count the writer read. */
  main?: { shards: number; slots: number; readOfferVersion: number | undefined; readSlots: number | undefined };
  /** Shards k > 0: the offer they carry. */
  offer?: { offer: OfferInput; at: string };
  /** Beyond the active shards: checkouts refuse it; it keeps only its reservations. */
  retired: boolean;
}

/**
 * The update of one shard item to hold `onHand` units. It keeps whatever is reserved there (the condition refuses to
 * go below it, so `available` never turns negative), and a new shard item gets the offer.
 */
export function shardStockUpdate(tableName: string, stock: ShardStock): TransactItem {
  const values: Record<string, unknown> = {
    ":entity": Entity.Sku,
    ":skuId": stock.skuId,
    ":shard": stock.shard,
    ":t": stock.onHand,
    ":zero": 0,
    ":one": 1,
  };
  let set =
    "entity = :entity, skuId = :skuId, #shard = :shard, onHand = :t, reserved = if_not_exists(reserved, :zero), available = :t - if_not_exists(reserved, :zero)";
  let condition = "attribute_not_exists(reserved) OR reserved <= :t";
  if (stock.main) {
    const { shards, slots, readOfferVersion, readSlots } = stock.main;
    set += ", shards = :shards, shardSlots = :slots";
    values[":shards"] = shards;
    values[":slots"] = slots;
    // A concurrent offer change asserts the slot count it read; this asserts the offer it copies.
    condition = `(${condition}) AND ${readOfferVersion === undefined ? "attribute_not_exists(offerVersion)" : "offerVersion = :offerVersion"}`;
    if (readOfferVersion !== undefined) values[":offerVersion"] = readOfferVersion;
    // And the slot count it read: a concurrent re-shard that created more slots must not be undone (its slots would
    // drop out of every sum while still holding stock); the loser re-reads and spreads again.
    condition += readSlots === undefined ? " AND attribute_not_exists(shardSlots)" : " AND shardSlots = :readSlots";
    if (readSlots !== undefined) values[":readSlots"] = readSlots;
  } else if (stock.offer) {
    set += `, ${SET_OFFER}`;
    Object.assign(values, offerValues(stock.offer.offer, stock.offer.at));
  }
  if (stock.retired) {
    set += ", retired = :true";
    values[":true"] = true;
  }
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(stock.skuId, stock.shard),
      UpdateExpression: `SET ${set} ADD stockVersion :one${stock.retired ? "" : " REMOVE retired"}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: { "#shard": "shard" },
      ExpressionAttributeValues: values,
    },
  };
}

/** Takes `units` of free stock off a donor shard, which must still have them (total stock moves, never changes). */
export function moveStockOutUpdate(tableName: string, skuId: string, shard: number, units: number): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(skuId, shard),
      UpdateExpression: "SET onHand = onHand - :m, available = available - :m ADD stockVersion :one",
      ConditionExpression: "available >= :m",
      ExpressionAttributeValues: { ":m": units, ":one": 1 },
    },
  };
}

/** Adds `units` of free stock, moved from donors in the same transaction, to an existing shard. */
export function moveStockInUpdate(tableName: string, skuId: string, shard: number, units: number): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(skuId, shard),
      UpdateExpression: "SET onHand = onHand + :m, available = available + :m ADD stockVersion :one",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":m": units, ":one": 1 },
    },
  };
}
