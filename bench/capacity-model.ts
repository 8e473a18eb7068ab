/**
 * The capacity model's pure part: from the writes read back from the table's stream (old and new images) and
 * whether each was transactional, the write units each partition key of the table and of every index takes, and
 * from those per order, the hottest key and the modeled ceiling (DynamoDB: 1,000 write units/s per partition key).
 * Sizes and index entries are computed exactly as the local partition limit computes them (local/partition-limit.ts).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { keyText, TABLE, writeCharges, writeUnits, itemSize, type Item, type TableSpec } from "../local/partition-limit.js";

/** DynamoDB's write limit of one partition key, in write units a second. */
export const PARTITION_WCU = 1000;

/**
 * An image from the stream as plain AttributeValues. DynamoDB Local encodes an empty map, top level or nested, as
 * `{}` instead of `{"M":{}}`; such a value is restored to an empty map (binary stays as base64 text).
 */
export function normalizeImage(image: Record<string, unknown> | undefined): Item | undefined {
  if (!image) return undefined;
  const out: Item = {};
  for (const [name, value] of Object.entries(image)) out[name] = normalizeValue(value);
  return out;
}

function normalizeValue(value: unknown): AttributeValue {
  const v = (value ?? {}) as Record<string, unknown>;
  if (Array.isArray(v.L)) return { L: v.L.map(normalizeValue) };
  if (v.M && typeof v.M === "object") return { M: normalizeImage(v.M as Record<string, unknown>)! };
  const typed = Object.entries(v).filter(([, inner]) => inner !== undefined);
  if (typed.length === 0) return { M: {} };
  return Object.fromEntries(typed) as unknown as AttributeValue;
}

/**
 * A partition key value as a pattern: `#`-separated segments that are constant words stay (`ORDER`,
 * `PAYMENT_DEADLINE`, a lowercase status such as `pending`), numbers become `<n>` (shard numbers), anything else
 * (ids, ULIDs) becomes `<id>`.
 */
export function keyPattern(key: string): string {
  return key
    .split("#")
    .map((segment) => {
      if (/^[A-Z][A-Z_]*$/.test(segment) || /^[a-z]+$/.test(segment)) return segment;
      if (/^\d+$/.test(segment)) return "<n>";
      return "<id>";
    })
    .join("#");
}

/** One write read back from the stream. */
export interface ObservedWrite {
  old: Item | undefined;
  new: Item | undefined;
  /** Written by TransactWriteItems (recorded by the client: the stream does not say). */
  transactional: boolean;
}

export interface KeyUnits {
  index: string;
  key: string;
  pattern: string;
  units: number;
  /** Writes (table) or entry puts + deletes (index) charged to the key. */
  writes: number;
  /**
   * The one entity (`relay:<relayId>` or `order:<orderId>` of the items written) every write of the key was for, or
   * null when the key is shared: items of several entities, or items of none (a SKU, a listing).
   */
  owner: string | null;
}

/** Attributes naming the entity an item belongs to, first match wins. */
export const OWNER_ATTRIBUTES = ["relayId", "orderId"] as const;

function ownerOf(item: Item | undefined): string | null {
  for (const name of OWNER_ATTRIBUTES) {
    const value = (item?.[name] as { S?: string } | undefined)?.S;
    if (value) return `${name.replace(/Id$/, "")}:${value}`;
  }
  return null;
}

/** Write units per (index, partition key) of `writes`, plus ConditionChecks (2 units per started KB of the item checked). */
export function unitsByKey(spec: TableSpec, writes: ObservedWrite[], conditionChecks: (Item | undefined)[] = []): KeyUnits[] {
  const byKey = new Map<string, KeyUnits>();
  const charge = (index: string, key: string, units: number, owner: string | null) => {
    const id = `${index}\u0000${key}`;
    const row = byKey.get(id);
    if (!row) return byKey.set(id, { index, key, pattern: keyPattern(key), units, writes: 1, owner });
    row.units += units;
    row.writes += 1;
    if (row.owner !== owner) row.owner = null;
  };
  for (const write of writes) {
    const owner = ownerOf(write.new ?? write.old);
    for (const c of writeCharges(spec, { before: write.old, after: write.new, transactional: write.transactional })) charge(c.index, c.partitionKey, c.units, owner);
  }
  for (const item of conditionChecks) if (item) charge(TABLE, keyText(item[spec.partitionKey]), 2 * writeUnits(itemSize(item)), ownerOf(item));
  return [...byKey.values()];
}

export interface PatternRow {
  index: string;
  pattern: string;
  /** Distinct keys of the pattern seen. */
  keys: number;
  /**
   * Every key of the pattern belongs to one entity (an order, a relay): its load does not grow with the order rate
   * (an order's key takes its lifecycle's units, whatever the rate), so it is left out of the ceiling.
   */
  perEntity: boolean;
  /** The most units one key of the pattern took in the whole workload (for an entity key: over its life). */
  hottestKeyWriteUnits: number;
  /** All keys of the pattern together, per order. */
  writeUnitsPerOrder: number;
  hottestKey: string;
  /** The hottest single key of the pattern, per order: what its partition limit sees. */
  hottestKeyWriteUnitsPerOrder: number;
}

export interface CapacitySummary {
  orders: number;
  /** Over every key, entity keys included (meaningful only for a workload of many more orders than an entity's units). */
  ceilingAllKeys: { ceilingOrdersPerSecond: number | undefined; index: string; key: string; writeUnitsPerOrder: number } | undefined;
  totalWriteUnitsPerOrder: number;
  perIndex: Record<string, number>;
  perPattern: PatternRow[];
  hottestKeys: { index: string; key: string; pattern: string; writeUnitsPerOrder: number }[];
  hottest: { index: string; keyPattern: string; key: string; writeUnitsPerOrder: number } | undefined;
  /** 1,000 write units/s over the hottest key's write units per order (before any account quota). */
  ceilingOrdersPerSecond: number | undefined;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * Per pattern, per index and per key, per order; the hottest shared key (one written for more than one entity, or
 * for none) and the ceiling it sets. A key of one entity is left out of the ceiling: at this workload's size its
 * share per order is only 1/orders of that entity's writes, and it does not grow with the order rate.
 */
export function summarize(rows: KeyUnits[], orders: number, options: { top?: number } = {}): CapacitySummary {
  const top = options.top ?? 10;
  const per = (units: number) => (orders > 0 ? units / orders : 0);
  const perIndex: Record<string, number> = {};
  const patterns = new Map<string, { index: string; pattern: string; keys: number; units: number; hottest: KeyUnits; hottestShared: KeyUnits | undefined }>();
  for (const row of rows) {
    perIndex[row.index] = (perIndex[row.index] ?? 0) + row.units;
    const id = `${row.index}\u0000${row.pattern}`;
    const p = patterns.get(id);
    const shared = row.owner === null ? row : undefined;
    if (!p) patterns.set(id, { index: row.index, pattern: row.pattern, keys: 1, units: row.units, hottest: row, hottestShared: shared });
    else {
      p.keys++;
      p.units += row.units;
      if (row.units > p.hottest.units) p.hottest = row;
      if (shared && (!p.hottestShared || shared.units > p.hottestShared.units)) p.hottestShared = shared;
    }
  }
  const perPattern = [...patterns.values()]
    .map((p) => ({
      index: p.index,
      pattern: p.pattern,
      keys: p.keys,
      perEntity: p.hottestShared === undefined,
      hottestKeyWriteUnits: (p.hottestShared ?? p.hottest).units,
      writeUnitsPerOrder: round(per(p.units)),
      hottestKey: (p.hottestShared ?? p.hottest).key,
      hottestKeyWriteUnitsPerOrder: round(per((p.hottestShared ?? p.hottest).units)),
    }))
    .sort(
      (a, b) =>
        Number(a.perEntity) - Number(b.perEntity) || b.hottestKeyWriteUnitsPerOrder - a.hottestKeyWriteUnitsPerOrder || b.writeUnitsPerOrder - a.writeUnitsPerOrder,
    );
  const sortedAll = [...rows].sort((a, b) => b.units - a.units || a.key.localeCompare(b.key));
  const sorted = sortedAll.filter((r) => r.owner === null);
  const hottestKeys = sorted.slice(0, top).map((r) => ({ index: r.index, key: r.key, pattern: r.pattern, writeUnitsPerOrder: round(per(r.units)) }));
  const h = sorted[0];
  const hottestPerOrder = h ? per(h.units) : 0;
  const all = sortedAll[0];
  return {
    orders,
    ceilingAllKeys: all
      ? { ceilingOrdersPerSecond: all.units > 0 && orders > 0 ? Math.floor(PARTITION_WCU / per(all.units)) : undefined, index: all.index, key: all.key, writeUnitsPerOrder: round(per(all.units)) }
      : undefined,
    totalWriteUnitsPerOrder: round(per(rows.reduce((sum, r) => sum + r.units, 0))),
    perIndex: Object.fromEntries(Object.entries(perIndex).map(([index, units]) => [index, round(per(units))])),
    perPattern,
    hottestKeys,
    hottest: h ? { index: h.index, keyPattern: h.pattern, key: h.key, writeUnitsPerOrder: round(hottestPerOrder) } : undefined,
    ceilingOrdersPerSecond: hottestPerOrder > 0 ? Math.floor(PARTITION_WCU / hottestPerOrder) : undefined,
  };
}

/**
 * Matches the client's record of which writes were transactional to the stream's records of the same item: both
 * are in write order per item, so the n-th stream record of an item is the n-th write of it the client saw
 * succeed. An item the client never wrote (TTL deletes) counts as a standard write.
 */
export function matchTransactional(records: { itemKey: string }[], clientWrites: Map<string, boolean[]>): boolean[] {
  const next = new Map<string, number>();
  return records.map((r) => {
    const i = next.get(r.itemKey) ?? 0;
    next.set(r.itemKey, i + 1);
    return clientWrites.get(r.itemKey)?.[i] ?? false;
  });
}
