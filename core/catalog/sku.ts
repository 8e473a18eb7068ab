import * as z from "zod";
import { ConcurrencyError, DomainError, NotFoundError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import { Currency, Id, Money } from "../schema.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { keys } from "../store/table.js";
import { type TransactItem, TransactionCancelled } from "../store/transact.js";
import { ConditionFailed, writeUpdates } from "../store/write.js";
import { validate } from "../validate.js";
import {
  MAX_SHARDS,
  readSkuShards,
  rememberShards,
  type SkuShards,
  type SkuState,
  spreadStock,
  totalsOf,
} from "./shards.js";
import { offerCopyUpdate, offerUpdate, type ShardStock, shardStockUpdate } from "./store.js";

export type { SkuState } from "./shards.js";

/**
 * One item per SKU holds both its current offer (the re-quote source, owned by the catalog domain) and its
 * stock counters. Keeping them together lets checkout assert "offer still as seen AND enough stock" in a single
 * conditional update per line. Invariant: `available = onHand - reserved` and `0 <= reserved <= onHand`;
 * `stockVersion` grows with every change of the counters (reconciliation conditions its fix on it).
 * A hot SKU spreads its stock over shard items, each with a copy of the offer (see shards.ts).
 */
export const OfferInput = z.strictObject({
  offerId: Id,
  unitPrice: Money,
  currency: Currency,
  title: z.string().min(1).max(200).optional(),
});
export type OfferInput = z.infer<typeof OfferInput>;

export interface Offer extends OfferInput {
  skuId: string;
  updatedAt: string;
}

export const StockInput = z.strictObject({
  onHand: z.int().min(0).max(1_000_000_000),
  shards: z.int().min(1).max(MAX_SHARDS).optional(),
});

export interface Stock {
  skuId: string;
  onHand: number;
  reserved: number;
  available: number;
  shards: number;
}

/** Attempts of an offer or stock change that raced a re-shard (or, for stock, a burst of reservations). */
const MAX_CATALOG_ATTEMPTS = 6;

/**
 * Sets the SKU's offer on its main item and on every stock shard, all at once: a checkout on any shard asserts
 * the same offer. The write asserts the number of shards it read, so a concurrent re-shard cannot leave a copy
 * stale (it is then re-read and written again).
 */
export async function putOffer(skuId: string, input: unknown): Promise<Offer> {
  const id = validate(Id, skuId);
  const offer = validate(OfferInput, input);
  const { tableName } = db();
  const replans = replanAfterLostRace(MAX_CATALOG_ATTEMPTS);
  do {
    const updatedAt = new Date().toISOString();
    const slots = (await getSku(id))?.shardSlots ?? 1;
    const actions: TransactItem[] = [
      offerUpdate(tableName, id, offer, updatedAt, slots),
      ...Array.from({ length: slots - 1 }, (_, i) => offerCopyUpdate(tableName, id, i + 1, offer, updatedAt)),
    ];
    try {
      await writeUpdates(actions);
      return { skuId: id, ...offer, updatedAt };
    } catch (error) {
      if (!(error instanceof TransactionCancelled) && !(error instanceof ConditionFailed)) throw error;
    }
  } while (await replans.wait());
  throw new ConcurrencyError(`the shards of SKU ${id} kept changing; retry the request`);
}

export async function getSku(skuId: string): Promise<SkuState | undefined> {
  return (await getItem(keys.sku(skuId))) as SkuState | undefined;
}

export async function getOffer(skuId: string): Promise<Offer> {
  const sku = await getSku(validate(Id, skuId));
  if (!sku?.offerId || sku.unitPrice === undefined || !sku.currency) throw new NotFoundError("offer for SKU", skuId);
  return {
    skuId: sku.skuId,
    offerId: sku.offerId,
    unitPrice: sku.unitPrice,
    currency: sku.currency,
    ...(sku.title ? { title: sku.title } : {}),
    updatedAt: sku.offerUpdatedAt ?? "",
  };
}

export function stockOf(sku: SkuShards): Stock {
  return { skuId: sku.skuId, ...totalsOf(sku), shards: sku.shards };
}

function belowReserved(onHand: number, reserved: number): DomainError {
  return new DomainError("STOCK_BELOW_RESERVED", `onHand ${onHand} is below the ${reserved} units live orders hold`, {
    reserved,
  });
}

/**
 * What setting shard `shard` of `sku` to `onHand` units writes when `shards` are active out of `slots`: the main
 * item records the counts and asserts the offer and slots it read; any other shard carries the offer; a shard
 * beyond the active ones is retired.
 */
function shardStock(sku: SkuShards, shard: number, onHand: number, shards: number, slots: number): ShardStock {
  const main = sku.main;
  const stock: ShardStock = { skuId: sku.skuId, shard, onHand, retired: shard >= shards };
  if (shard === 0) stock.main = { shards, slots, readOfferVersion: main?.offerVersion, readSlots: main?.shardSlots };
  else if (main?.offerId !== undefined) stock.offer = { offer: main as OfferInput, at: main.offerUpdatedAt ?? "" };
  return stock;
}

/**
 * Sets stock on hand and, with `shards`, how many items it is spread over. Refused when it would drop below what
 * live orders hold, because `available` must never go negative (those orders would be oversold). With several
 * shards the free stock is split evenly; each shard keeps what it has reserved; shards beyond the new count are
 * retired (they keep only their reservations). All shards change in one transaction.
 */
export async function setStock(skuId: string, input: unknown): Promise<Stock> {
  const id = validate(Id, skuId);
  const { onHand, shards: wanted } = validate(StockInput, input);
  const { tableName } = db();
  const replans = replanAfterLostRace(MAX_CATALOG_ATTEMPTS);
  do {
    const sku = (await readSkuShards([id])).get(id)!;
    const shards = wanted ?? sku.shards;
    const slotCount = Math.max(sku.slots.length, shards);
    const reserved = Array.from({ length: slotCount }, (_, k) => sku.slots[k]?.reserved ?? 0);
    const totalReserved = reserved.reduce((sum, r) => sum + r, 0);
    if (onHand < totalReserved) throw belowReserved(onHand, totalReserved);
    const targets = spreadStock(onHand, reserved, shards);
    const actions = targets.map((target, k) =>
      shardStockUpdate(tableName, shardStock(sku, k, target, shards, slotCount)),
    );
    try {
      await writeUpdates(actions);
      rememberShards(id, shards);
      return { skuId: id, onHand, reserved: totalReserved, available: onHand - totalReserved, shards };
    } catch (error) {
      // A reservation, an offer change or another stock change landed in between: read again and re-spread.
      if (!(error instanceof TransactionCancelled) && !(error instanceof ConditionFailed)) throw error;
    }
  } while (await replans.wait());
  const current = stockOf((await readSkuShards([id])).get(id)!);
  if (onHand < current.reserved) throw belowReserved(onHand, current.reserved);
  throw new ConcurrencyError(`stock of SKU ${id} kept changing; retry the request`);
}

export async function getStock(skuId: string): Promise<Stock> {
  const id = validate(Id, skuId);
  const sku = (await readSkuShards([id])).get(id)!;
  if (sku.main?.onHand === undefined) throw new NotFoundError("stock for SKU", id);
  return stockOf(sku);
}
