/**
 * The capacity model's pure part: from the writes read back from the table's stream (old and new images) and
 * whether each was transactional, the write units each partition key of the table and of every index takes, and
 * from those per order, the hottest key and the modeled ceiling (DynamoDB: 1,000 write units/s per partition key).
 * Sizes and index entries are computed exactly as the local partition limit computes them (local/partition-limit.ts).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type Item,
  itemSize,
  keyText,
  TABLE,
  type TableSpec,
  writeCharges,
  writeUnits,
} from "../local/partition-limit.js";

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
export function unitsByKey(
  spec: TableSpec,
  writes: ObservedWrite[],
  conditionChecks: (Item | undefined)[] = [],
): KeyUnits[] {
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
    for (const c of writeCharges(spec, { before: write.old, after: write.new, transactional: write.transactional }))
      charge(c.index, c.partitionKey, c.units, owner);
  }
  for (const item of conditionChecks)
    if (item) charge(TABLE, keyText(item[spec.partitionKey]), 2 * writeUnits(itemSize(item)), ownerOf(item));
  return [...byKey.values()];
}

/**
 * A key that is one of `shards` keys its writer picks uniformly (a hash of an id, or at random): its expected load
 * is the group's total / shards, whatever the sample happened to put on it.
 */
export interface SpreadGroup {
  /** The keys' common name, e.g. `SKU#sku-001` or `PAYMENT_DUE`. */
  group: string;
  shards: number;
  /**
   * The group's known share of all the writes of `family` (a SKU's popularity among all SKU lines): its total is
   * then taken as the family's total x share rather than what the sample happened to give it. Without: the
   * group's observed total.
   */
  family?: string;
  share?: number;
}

/** The spread group of a partition key of `index` (`table` or an index name), or undefined for a key on its own. */
export type SpreadOf = (index: string, key: string) => SpreadGroup | undefined;

/**
 * The spread keys of this table's design: SKU stock shards (`SKU#<id>` is shard 0, `SKU#<id>#<k>` shard k, with
 * the SKU's shard count from `skuShards`: the workload set it), and the index queues sharded by `ShardCount`
 * (their prefixes from the key builders, passed in so this stays pure). An index key of the form `<prefix>#<k>`.
 */
export function spreadOf(options: {
  skuShards: (skuId: string) => number | undefined;
  indexPrefixes: { prefix: string; shards: number }[];
  /** A SKU's known share of all SKU lines (its popularity); with it, every SKU is a group of the family `SKU`. */
  skuShare?: (skuId: string) => number | undefined;
}): SpreadOf {
  return (index, key) => {
    if (index === TABLE) {
      const sku = /^SKU#([^#]+)(?:#(\d+))?$/.exec(key);
      if (!sku) return undefined;
      const shards = options.skuShards(sku[1]!) ?? 1;
      const share = options.skuShare?.(sku[1]!);
      if (share !== undefined) return { group: `SKU#${sku[1]}`, shards, family: "SKU", share };
      return shards > 1 ? { group: `SKU#${sku[1]}`, shards } : undefined;
    }
    const at = key.lastIndexOf("#");
    if (at < 0 || !/^\d+$/.test(key.slice(at + 1))) return undefined;
    const head = key.slice(0, at);
    for (const { prefix, shards } of options.indexPrefixes) {
      const matches = prefix.endsWith("#")
        ? head.startsWith(prefix) && !head.slice(prefix.length).includes("#")
        : head === prefix;
      if (matches && shards > 1) return { group: head, shards };
    }
    return undefined;
  };
}

/** One load on the partition limit: a key on its own, or (spread-aware) every shard of a spread group. */
export interface KeyLoad {
  index: string;
  /** The key; for a spread group `<group>#<k>`-style text naming every shard. */
  key: string;
  pattern: string;
  /** 1 for a key on its own. */
  shards: number;
  /** Expected write units per order on one key (for a spread group: the group's per order / shards). */
  writeUnitsPerOrder: number;
  /** A spread group's: all its shards together, and the most one shard took in this sample. */
  groupWriteUnitsPerOrder?: number;
  observedMaxWriteUnitsPerOrder?: number;
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
  /** The hottest key of the pattern, spread-aware (a spread key at its group's total / shards). */
  hottestKey: string;
  hottestKeyWriteUnitsPerOrder: number;
  /** The shards of the hottest key's group (1: a key on its own). */
  hottestKeyShards: number;
  /** The hottest key as observed in this sample (the most any one key took). */
  observedHottestKey: string;
  observedHottestKeyWriteUnitsPerOrder: number;
}

export interface Hottest {
  index: string;
  keyPattern: string;
  key: string;
  writeUnitsPerOrder: number;
  /** Spread-aware: the shards its group's load is divided over (1: a key on its own). */
  shards?: number;
  groupWriteUnitsPerOrder?: number;
}

export interface CapacitySummary {
  orders: number;
  /** Over every key, entity keys included, as observed (meaningful only for a workload of many more orders than an entity's units). */
  ceilingAllKeys:
    | { ceilingOrdersPerSecond: number | undefined; index: string; key: string; writeUnitsPerOrder: number }
    | undefined;
  totalWriteUnitsPerOrder: number;
  perIndex: Record<string, number>;
  perPattern: PatternRow[];
  /** Spread-aware: the heaviest loads, a spread group once (at its expected load per shard). */
  hottestKeys: KeyLoad[];
  /** Spread-aware: the heaviest load on one shared key. */
  hottest: Hottest | undefined;
  /** 1,000 write units/s over `hottest`'s write units per order (before any account quota). */
  ceilingOrdersPerSecond: number | undefined;
  /** The same from the most units any one shared key took in this sample (sampling noise included). */
  observed: {
    hottestKeys: { index: string; key: string; pattern: string; writeUnitsPerOrder: number }[];
    hottest: Hottest | undefined;
    ceilingOrdersPerSecond: number | undefined;
  };
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** Units over the whole workload to units per order (0 when the workload created no orders). */
type PerOrder = (units: number) => number;

/** The orders/s one key's PARTITION_WCU allows at `perOrder` write units per order on it (undefined: none taken). */
const ceiling = (perOrder: number) => (perOrder > 0 ? Math.floor(PARTITION_WCU / perOrder) : undefined);

/** A spread group as the sample wrote it. */
interface GroupTally {
  index: string;
  group: string;
  shards: number;
  family?: string;
  share?: number;
  /** The group's observed total, or with a known share: its family's total x share. */
  units: number;
  /** Distinct keys of the group seen. */
  keys: number;
  /** The group's most-written key. */
  max: KeyUnits;
}

/** The sample's spread groups by index and group, and the group of every row that is one of a group's keys. */
interface SpreadGroups {
  groups: Map<string, GroupTally>;
  groupOf: Map<KeyUnits, string>;
}

function tallyGroups(rows: KeyUnits[], spread: SpreadOf): SpreadGroups {
  const groups = new Map<string, GroupTally>();
  const families = new Map<string, number>();
  const groupOf = new Map<KeyUnits, string>();
  for (const row of rows) {
    const g = spread(row.index, row.key);
    if (!g) continue;
    const id = `${row.index}\u0000${g.group}`;
    groupOf.set(row, id);
    if (g.family !== undefined && g.share !== undefined) {
      const family = `${row.index}\u0000${g.family}`;
      families.set(family, (families.get(family) ?? 0) + row.units);
    }
    const entry = groups.get(id);
    if (!entry)
      groups.set(id, {
        index: row.index,
        group: g.group,
        shards: g.shards,
        family: g.family,
        share: g.share,
        units: row.units,
        keys: 1,
        max: row,
      });
    else {
      entry.units += row.units;
      entry.keys++;
      if (row.units > entry.max.units) entry.max = row;
    }
  }
  // A family's total is known only once every row is in, so shares are applied after the pass.
  for (const g of groups.values())
    if (g.family !== undefined && g.share !== undefined)
      g.units = (families.get(`${g.index}\u0000${g.family}`) ?? 0) * g.share;
  return { groups, groupOf };
}

/** More keys seen than the writer's shards (a re-shard mid-run): divide over what was seen. */
const groupShards = (g: GroupTally) => Math.max(g.shards, g.keys);

const groupKeyText = (g: GroupTally) =>
  groupShards(g) > 1 ? `${g.group} (each of ${groupShards(g)} shards)` : g.group;

function tallyOf(row: KeyUnits, spread: SpreadGroups): GroupTally | undefined {
  const id = spread.groupOf.get(row);
  return id === undefined ? undefined : spread.groups.get(id)!;
}

/** A key's expected units: a spread key's are its group's total / shards, any other key's as observed. */
function expectedUnits(row: KeyUnits, spread: SpreadGroups): number {
  const g = tallyOf(row, spread);
  return g ? g.units / groupShards(g) : row.units;
}

/** A key that counts toward the ceiling: written for no single entity, or a spread key (shared by design). */
const isShared = (row: KeyUnits, spread: SpreadGroups) => row.owner === null || spread.groupOf.has(row);

/** A pattern's keys as the sample wrote them. */
interface PatternTally {
  index: string;
  pattern: string;
  keys: number;
  units: number;
  /** The most-written key of any kind. */
  hottest: KeyUnits;
  /** The shared key that took the most units, and the one expected to take the most; undefined: no shared key. */
  observed: KeyUnits | undefined;
  expected: KeyUnits | undefined;
}

function tallyPatterns(rows: KeyUnits[], spread: SpreadGroups): PatternTally[] {
  const patterns = new Map<string, PatternTally>();
  for (const row of rows) {
    const id = `${row.index}\u0000${row.pattern}`;
    const p = patterns.get(id);
    const shared = isShared(row, spread) ? row : undefined;
    if (!p)
      patterns.set(id, {
        index: row.index,
        pattern: row.pattern,
        keys: 1,
        units: row.units,
        hottest: row,
        observed: shared,
        expected: shared,
      });
    else {
      p.keys++;
      p.units += row.units;
      if (row.units > p.hottest.units) p.hottest = row;
      if (shared && (!p.observed || shared.units > p.observed.units)) p.observed = shared;
      if (shared && (!p.expected || expectedUnits(shared, spread) > expectedUnits(p.expected, spread)))
        p.expected = shared;
    }
  }
  return [...patterns.values()];
}

/** Shared patterns first, then by their hottest key's expected units, then by the pattern's units. */
function patternRows(patterns: PatternTally[], spread: SpreadGroups, per: PerOrder): PatternRow[] {
  return patterns
    .map((p) => {
      const expected = p.expected ?? p.hottest;
      const observed = p.observed ?? p.hottest;
      const group = tallyOf(expected, spread);
      return {
        index: p.index,
        pattern: p.pattern,
        keys: p.keys,
        perEntity: p.expected === undefined,
        hottestKeyWriteUnits: observed.units,
        writeUnitsPerOrder: round(per(p.units)),
        hottestKey: group ? groupKeyText(group) : expected.key,
        hottestKeyWriteUnitsPerOrder: round(per(expectedUnits(expected, spread))),
        hottestKeyShards: group ? groupShards(group) : 1,
        observedHottestKey: observed.key,
        observedHottestKeyWriteUnitsPerOrder: round(per(observed.units)),
      };
    })
    .sort(
      (a, b) =>
        Number(a.perEntity) - Number(b.perEntity) ||
        b.hottestKeyWriteUnitsPerOrder - a.hottestKeyWriteUnitsPerOrder ||
        b.writeUnitsPerOrder - a.writeUnitsPerOrder,
    );
}

/** A load with its unrounded expected units per key over the workload (`raw`), which orders the loads. */
type RankedLoad = KeyLoad & { raw: number };

/** Every shared key on its own and every spread group once, heaviest first (ties by key). */
function rankedLoads(rows: KeyUnits[], spread: SpreadGroups, per: PerOrder): RankedLoad[] {
  const loads: RankedLoad[] = [];
  for (const row of rows)
    if (isShared(row, spread) && !spread.groupOf.has(row))
      loads.push({
        index: row.index,
        key: row.key,
        pattern: row.pattern,
        shards: 1,
        writeUnitsPerOrder: round(per(row.units)),
        raw: row.units,
      });
  for (const g of spread.groups.values()) {
    const shards = groupShards(g);
    loads.push({
      index: g.index,
      key: groupKeyText(g),
      pattern: `${keyPattern(g.group)}#<n>`,
      shards,
      writeUnitsPerOrder: round(per(g.units / shards)),
      groupWriteUnitsPerOrder: round(per(g.units)),
      observedMaxWriteUnitsPerOrder: round(per(g.max.units)),
      raw: g.units / shards,
    });
  }
  return loads.sort((a, b) => b.raw - a.raw || a.key.localeCompare(b.key));
}

function hottestLoad(h: RankedLoad, per: PerOrder): Hottest {
  return {
    index: h.index,
    keyPattern: h.pattern,
    key: h.key,
    writeUnitsPerOrder: round(per(h.raw)),
    shards: h.shards,
    ...(h.groupWriteUnitsPerOrder !== undefined ? { groupWriteUnitsPerOrder: h.groupWriteUnitsPerOrder } : {}),
  };
}

/** The figures from the shared keys as observed, `shared` sorted heaviest first. */
function observedFigures(shared: KeyUnits[], top: number, per: PerOrder): CapacitySummary["observed"] {
  const o = shared[0];
  return {
    hottestKeys: shared
      .slice(0, top)
      .map((r) => ({ index: r.index, key: r.key, pattern: r.pattern, writeUnitsPerOrder: round(per(r.units)) })),
    hottest: o
      ? { index: o.index, keyPattern: o.pattern, key: o.key, writeUnitsPerOrder: round(per(o.units)) }
      : undefined,
    ceilingOrdersPerSecond: o ? ceiling(per(o.units)) : undefined,
  };
}

/** Per index, its keys' units per order, indexes in the order the rows first name them. */
function unitsPerIndex(rows: KeyUnits[], per: PerOrder): Record<string, number> {
  const perIndex: Record<string, number> = {};
  for (const row of rows) perIndex[row.index] = (perIndex[row.index] ?? 0) + row.units;
  return Object.fromEntries(Object.entries(perIndex).map(([index, units]) => [index, round(per(units))]));
}

/**
 * Per pattern, per index and per key, per order; the hottest shared key (one written for more than one entity, or
 * for none) and the ceiling it sets. A key of one entity is left out of the ceiling: at this workload's size its
 * share per order is only 1/orders of that entity's writes, and it does not grow with the order rate.
 *
 * With `spread`, a key of a spread group is taken at its group's total / shards (a shard's expectation) instead of
 * what it happened to get: with a few hundred orders the most-written of N shards is mostly sampling noise. The
 * keys of a group are shared by design (a queue's shard holds entries of many entities over time), whoever wrote
 * them in this sample. A group with a known share of a family (a SKU's popularity) is taken at the family's total x
 * share, so an unsharded SKU that a small sample happened to hit a few times is not mistaken for a hot one (SKUs the
 * sample never wrote are not listed). The observed figures stay under `observed`.
 */
export function summarize(
  rows: KeyUnits[],
  orders: number,
  options: { top?: number; spread?: SpreadOf } = {},
): CapacitySummary {
  const top = options.top ?? 10;
  const spread = tallyGroups(rows, options.spread ?? (() => undefined));
  const per: PerOrder = (units) => (orders > 0 ? units / orders : 0);
  const loads = rankedLoads(rows, spread, per);
  const h = loads[0];
  const sortedAll = [...rows].sort((a, b) => b.units - a.units || a.key.localeCompare(b.key));
  const all = sortedAll[0];
  return {
    orders,
    ceilingAllKeys: all
      ? {
          ceilingOrdersPerSecond: orders > 0 ? ceiling(per(all.units)) : undefined,
          index: all.index,
          key: all.key,
          writeUnitsPerOrder: round(per(all.units)),
        }
      : undefined,
    totalWriteUnitsPerOrder: round(per(rows.reduce((sum, r) => sum + r.units, 0))),
    perIndex: unitsPerIndex(rows, per),
    perPattern: patternRows(tallyPatterns(rows, spread), spread, per),
    hottestKeys: loads.slice(0, top).map(({ raw: _, ...load }) => load),
    hottest: h ? hottestLoad(h, per) : undefined,
    ceilingOrdersPerSecond: h ? ceiling(per(h.raw)) : undefined,
    observed: observedFigures(
      sortedAll.filter((row) => isShared(row, spread)),
      top,
      per,
    ),
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
