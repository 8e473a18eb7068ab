import { getItems } from "../store/items.js";
import { keys } from "../store/table.js";
import { type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { moveStockInUpdate, moveStockOutUpdate } from "./store.js";

/**
 * Stock shards of a hot SKU. One DynamoDB item takes about 500 transactional updates a second, so a SKU's stock
 * may be spread over `shards` counter items (shard 0 is the SKU's main item, shard k > 0 the item `SKU#<id>#<k>`).
 * Every shard carries a copy of the offer, so a checkout line stays ONE conditional update ("offer as seen AND
 * enough stock here") on one shard, and no unsharded item is in the checkout transaction.
 *
 * Invariants, per shard item: `available = onHand - reserved` and `0 <= reserved <= onHand`; the SKU's stock is
 * the sum over every slot ever created (`shardSlots`). Slots at or above `shards` are retired: checkouts refuse
 * them (a reserve asserts its shard is not retired), they keep the reservations they hold until those are released
 * or consumed, and their freed stock is moved back to active shards by `moveStock`.
 */
export const MAX_SHARDS = 64;

export interface ShardState {
  shard: number;
  onHand: number;
  reserved: number;
  available: number;
  retired: boolean;
}

/** The stored SKU item (shard 0) as checkout and the catalog read it. */
export interface SkuState {
  skuId: string;
  offerId?: string;
  unitPrice?: number;
  currency?: string;
  title?: string;
  offerUpdatedAt?: string;
  onHand?: number;
  reserved?: number;
  available?: number;
  shards?: number;
  shardSlots?: number;
  offerVersion?: number;
}

export interface SkuShards {
  skuId: string;
  main: SkuState | undefined;
  /** Active shards: checkouts spread over 0..shards-1. */
  shards: number;
  /** Every shard item that exists (active and retired). */
  slots: ShardState[];
}

function stateOf(shard: number, item: Record<string, unknown> | undefined): ShardState {
  const onHand = Number(item?.onHand ?? 0);
  const reserved = Number(item?.reserved ?? 0);
  return {
    shard,
    onHand,
    reserved,
    available: Number(item?.available ?? onHand - reserved),
    retired: item?.retired === true,
  };
}

const BATCH_GET_LIMIT = 100;

async function getMany(itemKeys: { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < itemKeys.length; i += BATCH_GET_LIMIT)
    out.push(...(await getItems(itemKeys.slice(i, i + BATCH_GET_LIMIT))));
  return out;
}

/** Every shard of each SKU, read consistently: the main items first (they say how many slots exist). */
export async function readSkuShards(skuIds: string[]): Promise<Map<string, SkuShards>> {
  const mains = new Map(
    (await getMany(skuIds.map((id) => keys.sku(id)))).map((item) => [String(item.skuId), item as unknown as SkuState]),
  );
  const extra = skuIds.flatMap((id) => {
    const slots = mains.get(id)?.shardSlots ?? 1;
    return Array.from({ length: slots - 1 }, (_, i) => keys.skuShard(id, i + 1));
  });
  const byPk = new Map((await getMany(extra)).map((item) => [String(item.pk), item]));
  const result = new Map<string, SkuShards>();
  for (const skuId of skuIds) {
    const main = mains.get(skuId);
    const slotCount = main?.shardSlots ?? 1;
    const slots = Array.from({ length: slotCount }, (_, k) =>
      stateOf(k, k === 0 ? (main as Record<string, unknown> | undefined) : byPk.get(keys.skuShard(skuId, k).pk)),
    );
    const shards = main?.shards ?? 1;
    rememberShards(skuId, shards);
    result.set(skuId, { skuId, main, shards, slots });
  }
  return result;
}

export function totalsOf(sku: SkuShards): { onHand: number; reserved: number; available: number } {
  const onHand = sku.slots.reduce((sum, s) => sum + s.onHand, 0);
  const reserved = sku.slots.reduce((sum, s) => sum + s.reserved, 0);
  return { onHand, reserved, available: Math.max(0, onHand - reserved) };
}

/**
 * Shard counts this process has seen, so a checkout picks a shard without reading first. A SKU not seen yet (or
 * seen more than SHARD_COUNT_TTL_MS ago) goes to shard 0, which always exists, while one background read refreshes
 * the count: correctness never depends on this cache (a stale pick is refused by the shard's own condition and
 * the checkout moves on), only how evenly checkouts spread does.
 */
const SHARD_COUNT_TTL_MS = 10_000;
const shardCounts = new Map<string, { shards: number; at: number }>();
const refreshing = new Set<string>();

export function rememberShards(skuId: string, shards: number): void {
  shardCounts.set(skuId, { shards, at: Date.now() });
}

function refreshInBackground(skuId: string): void {
  if (refreshing.has(skuId)) return;
  refreshing.add(skuId);
  getItems([keys.sku(skuId)])
    .then(([item]) => rememberShards(skuId, Number(item?.shards ?? 1)))
    .catch(() => undefined) // a failed refresh only keeps checkouts on shard 0 a little longer
    .finally(() => refreshing.delete(skuId));
}

/** How many active shards this process knows `skuId` to have (1 when not seen yet). */
export function knownShards(skuId: string): number {
  return shardCounts.get(skuId)?.shards ?? 1;
}

/** The shard a checkout line of `skuId` reserves on: uniform over the active shards this process knows. */
export function pickShard(skuId: string): number {
  const known = shardCounts.get(skuId);
  if (!known || Date.now() - known.at > SHARD_COUNT_TTL_MS) refreshInBackground(skuId);
  const shards = known?.shards ?? 1;
  return shards <= 1 ? 0 : Math.floor(Math.random() * shards);
}

/**
 * Makes an active shard of `sku` able to cover `qty`: the active shard with the most stock, topped up from the
 * others (retired ones first, then the fullest) in one transaction whose every donor asserts it still has what it
 * gives. Total stock never changes, so nothing can be oversold; if a donor moved meanwhile nothing is moved and
 * the caller re-reads. Returns the shard to reserve on, or undefined when the SKU as a whole lacks stock.
 */
export async function moveStock(tableName: string, sku: SkuShards, qty: number): Promise<number | undefined> {
  const active = sku.slots.filter((s) => s.shard < sku.shards && !s.retired);
  const target = active.reduce((best, s) => (s.available > best.available ? s : best), active[0]!);
  if (target.available >= qty) return target.shard;
  if (totalsOf(sku).available < qty) return undefined;
  const donors = sku.slots
    .filter((s) => s.shard !== target.shard && s.available > 0)
    .sort((a, b) => Number(b.retired) - Number(a.retired) || b.available - a.available);
  let missing = qty - target.available;
  const actions: TransactItem[] = [];
  for (const donor of donors) {
    if (missing <= 0) break;
    const moved = Math.min(donor.available, missing);
    missing -= moved;
    actions.push(moveStockOutUpdate(tableName, sku.skuId, donor.shard, moved));
  }
  actions.push(moveStockInUpdate(tableName, sku.skuId, target.shard, qty - target.available - missing));
  try {
    await transactWrite(actions);
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
  }
  return target.shard;
}

/**
 * How `onHand` units are spread over `slotCount` slots when `shards` are active: each slot keeps what it has
 * reserved, retired slots get nothing more, and the free stock is split evenly over the active ones.
 */
export function spreadStock(onHand: number, reserved: number[], shards: number): number[] {
  const free = onHand - reserved.reduce((sum, r) => sum + r, 0);
  const share = Math.floor(free / shards);
  const remainder = free - share * shards;
  return reserved.map((r, k) => (k < shards ? r + share + (k < remainder ? 1 : 0) : r));
}
