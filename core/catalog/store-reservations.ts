import { keys } from "../store/table.js";
import type { TransactItem } from "../store/transact.js";
import type { ItemUpdate } from "../store/write.js";

/**
 * The writes of orders' holds on SKU stock (see store.ts for the catalog's own): a checkout line reserves, a
 * transition releases or consumes what it holds, a reconciliation fixes a drifted counter. Each keeps
 * `available = onHand - reserved` on the shard item it touches and bumps `stockVersion`.
 */

/** A checkout line as it reserves: the SKU, the quantity, and the offer the customer saw. */
export interface LineReservation {
  skuId: string;
  qty: number;
  offerId: string;
  unitPrice: number;
}

/**
 * Reserves a checkout line on one stock shard, asserting in the same condition that the offer is exactly the one the
 * customer saw, that the shard has the stock, and that it is not retired.
 */
export function reserveLineUpdate(
  tableName: string,
  line: LineReservation,
  shard: number,
  currency: string,
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(line.skuId, shard),
      UpdateExpression: "SET reserved = reserved + :qty, available = available - :qty ADD stockVersion :one",
      ConditionExpression:
        "offerId = :offerId AND unitPrice = :unitPrice AND currency = :currency AND available >= :qty AND attribute_not_exists(retired)",
      ExpressionAttributeValues: {
        ":qty": line.qty,
        ":offerId": line.offerId,
        ":unitPrice": line.unitPrice,
        ":currency": currency,
        ":one": 1,
      },
    },
  };
}

/** An order line's hold: `shard` absent means the SKU's main item. */
export interface HeldLine {
  skuId: string;
  qty: number;
  shard?: number | undefined;
}

/** Gives a line's reserved units back to the stock they were taken from (a cancellation, a refund before shipping). */
export function releaseLineUpdate(tableName: string, line: HeldLine): TransactItem {
  return heldLineUpdate(
    tableName,
    line,
    "SET reserved = reserved - :qty, available = available + :qty ADD stockVersion :one",
  );
}

/** Takes a line's reserved units out of stock on hand (the goods left the warehouse). */
export function consumeLineUpdate(tableName: string, line: HeldLine): TransactItem {
  return heldLineUpdate(
    tableName,
    line,
    "SET reserved = reserved - :qty, onHand = onHand - :qty ADD stockVersion :one",
  );
}

function heldLineUpdate(tableName: string, line: HeldLine, update: string): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: keys.skuShard(line.skuId, line.shard ?? 0),
      UpdateExpression: update,
      // The hold is still there: a release or consumption never drives `reserved` negative.
      ConditionExpression: "reserved >= :qty",
      ExpressionAttributeValues: { ":qty": line.qty, ":one": 1 },
    },
  };
}

/** One stock shard's `reserved` counter as a reconciliation read it. */
export interface ReservedCounter {
  skuId: string;
  shard: number;
  reserved: number;
  stockVersion: unknown;
}

/**
 * Sets a drifted `reserved` counter to `want`, conditional on the shard being exactly as read: its `stockVersion`,
 * or, on an item written before that attribute existed, the counter itself.
 */
export function reservedFixUpdate(counter: ReservedCounter, want: number): ItemUpdate {
  const unversioned = counter.stockVersion === undefined;
  return {
    key: keys.skuShard(counter.skuId, counter.shard),
    update: "SET reserved = :want, available = onHand - :want ADD stockVersion :one",
    condition: unversioned ? "attribute_not_exists(stockVersion) AND reserved = :recorded" : "stockVersion = :version",
    values: {
      ":want": want,
      ":one": 1,
      ...(unversioned ? { ":recorded": counter.reserved } : { ":version": counter.stockVersion }),
    },
  };
}
