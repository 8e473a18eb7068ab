import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import {
  type KeyUnits,
  keyPattern,
  matchTransactional,
  normalizeImage,
  spreadOf,
  summarize,
  unitsByKey,
} from "../bench/capacity-model.js";
import { itemSize, tableSpec } from "../local/partition-limit.js";

const S = (s: string): AttributeValue => ({ S: s });
const spec = tableSpec({
  partitionKey: "pk",
  sortKey: "sk",
  globalIndexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk", projection: "KEYS_ONLY" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk", projection: { include: ["status"] } },
  },
});

describe("capacity model (pure)", () => {
  it("normalizes keys to patterns", () => {
    expect(keyPattern("ORDER#01JABCDEF0123456789ABCDEFG")).toBe("ORDER#<id>");
    expect(keyPattern("SKU#sku-17")).toBe("SKU#<id>");
    expect(keyPattern("PAYMENT_DEADLINE")).toBe("PAYMENT_DEADLINE");
    expect(keyPattern("PAYMENT_DEADLINE#12")).toBe("PAYMENT_DEADLINE#<n>");
    expect(keyPattern("RELAY_STATUS#pending")).toBe("RELAY_STATUS#pending");
  });

  it("restores DynamoDB Local's empty maps before sizing", () => {
    const image = normalizeImage({ pk: { S: "A" }, meta: {}, nested: { M: { inner: {} } }, list: { L: [{}] } })!;
    expect(image.meta).toEqual({ M: {} });
    expect(image.nested).toEqual({ M: { inner: { M: {} } } });
    expect(image.list).toEqual({ L: [{ M: {} }] });
    expect(itemSize(image)).toBe(2 + 1 + 4 + 3 + 6 + (3 + 1 + 5 + 3) + 4 + (3 + 1 + 3));
  });

  it("turns images into write units per key of the table and each index", () => {
    const order = (status: string, extra: Record<string, AttributeValue> = {}) => ({
      pk: S("ORDER#o-1"),
      sk: S("ORDER"),
      status: S(status),
      ...extra,
    });
    const queued = { gsi2pk: S("DEADLINE#3"), gsi2sk: S("t#1") };
    const byUser = { gsi1pk: S("USER#u1"), gsi1sk: S("1") };
    const rows = unitsByKey(
      spec,
      [
        { old: undefined, new: order("PENDING", { ...queued, ...byUser }), transactional: true }, // table 2, gsi1 put, gsi2 put
        { old: order("PENDING", { ...queued, ...byUser }), new: order("PAID", byUser), transactional: true }, // table 2, gsi2 delete; gsi1 KEYS_ONLY unchanged
        {
          old: order("PAID", byUser),
          new: order("SHIPPED", { ...byUser, note: S("x".repeat(3000)) }),
          transactional: false,
        }, // table 3
      ],
      [{ pk: S("LISTING#9"), sk: S("LISTING") }],
    );
    const units = Object.fromEntries(rows.map((r) => [`${r.index} ${r.key}`, r.units]));
    expect(units).toEqual({ "table ORDER#o-1": 7, "gsi1 USER#u1": 1, "gsi2 DEADLINE#3": 2, "table LISTING#9": 2 });

    const summary = summarize(rows, 2);
    expect(summary.hottest).toEqual({
      index: "table",
      keyPattern: "ORDER#<id>",
      key: "ORDER#o-1",
      writeUnitsPerOrder: 3.5,
      shards: 1,
    });
    expect(summary.observed.hottest).toEqual({
      index: "table",
      keyPattern: "ORDER#<id>",
      key: "ORDER#o-1",
      writeUnitsPerOrder: 3.5,
    });
    expect(summary.ceilingOrdersPerSecond).toBe(285);
    expect(summary.totalWriteUnitsPerOrder).toBe(6);
    expect(summary.perIndex).toEqual({ table: 4.5, gsi1: 0.5, gsi2: 1 });
    expect(summary.perPattern.find((p) => p.pattern === "DEADLINE#<n>")).toMatchObject({
      index: "gsi2",
      keys: 1,
      writeUnitsPerOrder: 1,
    });
  });

  it("leaves keys of one order (or relay) each out of the ceiling: their load does not grow with the order rate", () => {
    const ordered = (id: string, extra: Record<string, AttributeValue> = {}) => ({
      pk: S(`ORDER#${id}`),
      sk: S("ORDER"),
      orderId: S(id),
      ...extra,
    });
    const rows = unitsByKey(spec, [
      // one order's key, written twice for it; its gsi2 entry goes to a queue shard shared with another order
      { old: undefined, new: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a") }), transactional: true },
      {
        old: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a") }),
        new: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a"), x: S("y") }),
        transactional: true,
      },
      { old: undefined, new: ordered("o-2", { gsi2pk: S("DUE#1"), gsi2sk: S("b") }), transactional: true },
      // a SKU names no entity: shared
      { old: undefined, new: { pk: S("SKU#s-1"), sk: S("SKU") }, transactional: true },
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.owner]))).toEqual({
      "ORDER#o-1": "order:o-1",
      "ORDER#o-2": "order:o-2",
      "DUE#1": null,
      "SKU#s-1": null,
    });
    const orders = Array.from({ length: 10 }, (_, i) => ({
      index: "table",
      key: `ORDER#o-${i}`,
      pattern: "ORDER#<id>",
      units: 30,
      writes: 8,
      owner: `order:o-${i}`,
    }));
    const sku = { index: "table", key: "SKU#s-1", pattern: "SKU#<id>", units: 20, writes: 10, owner: null };
    const summary = summarize([...orders, sku], 10);
    expect(summary.hottest).toMatchObject({ key: "SKU#s-1", writeUnitsPerOrder: 2 });
    expect(summary.ceilingOrdersPerSecond).toBe(500);
    expect(summary.ceilingAllKeys).toMatchObject({ key: "ORDER#o-0", ceilingOrdersPerSecond: 333 });
    expect(summary.perPattern.find((p) => p.pattern === "ORDER#<id>")).toMatchObject({
      perEntity: true,
      keys: 10,
      hottestKeyWriteUnits: 30,
    });
  });

  const spread = spreadOf({
    skuShards: (id) => ({ "s-hot": 4, "s-cold": 1 })[id],
    indexPrefixes: [
      { prefix: "PAYMENT_DUE", shards: 64 },
      { prefix: "RELAY_STATUS#", shards: 16 },
      { prefix: "LISTING#", shards: 8 },
      { prefix: "RELAY_RETRY", shards: 8 },
    ],
  });

  it("groups the shards of a spread key: SKU stock shards by the SKU's shard count, index queues by prefix", () => {
    expect(spread("table", "SKU#s-hot")).toEqual({ group: "SKU#s-hot", shards: 4 });
    expect(spread("table", "SKU#s-hot#3")).toEqual({ group: "SKU#s-hot", shards: 4 });
    expect(spread("table", "SKU#s-cold")).toBeUndefined();
    expect(spread("table", "SKU#s-unknown#2")).toBeUndefined();
    expect(spread("gsi2", "PAYMENT_DUE#17")).toEqual({ group: "PAYMENT_DUE", shards: 64 });
    expect(spread("gsi2", "RELAY_STATUS#pending#3")).toEqual({ group: "RELAY_STATUS#pending", shards: 16 });
    expect(spread("gsi1", "LISTING#lst-1#7")).toEqual({ group: "LISTING#lst-1", shards: 8 });
    expect(spread("gsi3", "RELAY_RETRY#0")).toEqual({ group: "RELAY_RETRY", shards: 8 });
    // not spread: the listing item on the table, a user's orders, a key without a shard number, another prefix
    expect(spread("table", "LISTING#lst-1")).toBeUndefined();
    expect(spread("table", "PAYMENT_DUE#3")).toBeUndefined();
    expect(spread("gsi1", "USER#u-1")).toBeUndefined();
    expect(spread("gsi2", "PAYMENT_DUE")).toBeUndefined();
    expect(spread("gsi2", "PAYMENT_DUE_LATE#3")).toBeUndefined();
    expect(spread("gsi2", "RELAY_STATUS#a#b#3")).toBeUndefined();
  });

  it("takes each shard of a spread key at its group's total / shards, and keeps the observed max apart", () => {
    const row = (index: string, key: string, units: number, owner: string | null = null): KeyUnits => ({
      index,
      key,
      pattern: keyPattern(key),
      units,
      writes: units,
      owner,
    });
    const rows = [
      // 4 shards of one SKU, 40 units in all, unevenly sampled: 10 expected per shard, 16 observed on one
      row("table", "SKU#s-hot", 8),
      row("table", "SKU#s-hot#1", 16),
      row("table", "SKU#s-hot#2", 12),
      row("table", "SKU#s-hot#3", 4),
      row("table", "SKU#s-cold", 12),
      // 3 of 64 deadline shards seen, each entry of one order: shared by design all the same
      row("gsi2", "PAYMENT_DUE#1", 2, "order:o-1"),
      row("gsi2", "PAYMENT_DUE#2", 4),
      row("gsi2", "PAYMENT_DUE#9", 2, "order:o-3"),
    ];
    const summary = summarize(rows, 10, { spread });
    expect(summary.hottest).toEqual({
      index: "table",
      keyPattern: "SKU#<id>",
      key: "SKU#s-cold",
      writeUnitsPerOrder: 1.2,
      shards: 1,
    });
    expect(summary.ceilingOrdersPerSecond).toBe(833);
    expect(
      summary.hottestKeys.map((k) => [
        k.key,
        k.shards,
        k.writeUnitsPerOrder,
        k.groupWriteUnitsPerOrder,
        k.observedMaxWriteUnitsPerOrder,
      ]),
    ).toEqual([
      ["SKU#s-cold", 1, 1.2, undefined, undefined],
      ["SKU#s-hot (each of 4 shards)", 4, 1, 4, 1.6],
      ["PAYMENT_DUE (each of 64 shards)", 64, 0.013, 0.8, 0.4],
    ]);
    expect(summary.observed.hottest).toMatchObject({ key: "SKU#s-hot#1", writeUnitsPerOrder: 1.6 });
    expect(summary.observed.ceilingOrdersPerSecond).toBe(625);
    // a deadline shard that held one order's entry in this sample is still shared: another order's goes there next
    expect(summary.observed.hottestKeys.map((k) => k.key)).toContain("PAYMENT_DUE#1");
    expect(summary.perPattern.find((p) => p.pattern === "SKU#<id>#<n>")).toMatchObject({
      hottestKey: "SKU#s-hot (each of 4 shards)",
      hottestKeyWriteUnitsPerOrder: 1,
      hottestKeyShards: 4,
      observedHottestKey: "SKU#s-hot#1",
      observedHottestKeyWriteUnitsPerOrder: 1.6,
    });
    expect(summary.perPattern.find((p) => p.pattern === "PAYMENT_DUE#<n>")).toMatchObject({
      perEntity: false,
      hottestKeyShards: 64,
      hottestKeyWriteUnitsPerOrder: 0.013,
    });

    // without the cold SKU the hot SKU's shards bind, at 10 units per shard over 10 orders
    const hotOnly = summarize(
      rows.filter((r) => r.key !== "SKU#s-cold"),
      10,
      { spread },
    );
    expect(hotOnly.hottest).toEqual({
      index: "table",
      keyPattern: "SKU#<id>#<n>",
      key: "SKU#s-hot (each of 4 shards)",
      writeUnitsPerOrder: 1,
      shards: 4,
      groupWriteUnitsPerOrder: 4,
    });
    expect(hotOnly.ceilingOrdersPerSecond).toBe(1000);
  });

  it("takes a SKU with a known popularity at its share of all SKU writes, sharded or not", () => {
    const popular = spreadOf({
      skuShards: (id) => ({ "s-hot": 4 })[id] ?? 1,
      indexPrefixes: [],
      skuShare: (id) => ({ "s-hot": 0.8, "s-mid": 0.15, "s-tail": 0.05 })[id],
    });
    expect(popular("table", "SKU#s-tail")).toEqual({ group: "SKU#s-tail", shards: 1, family: "SKU", share: 0.05 });
    expect(popular("table", "SKU#other")).toBeUndefined();
    const row = (key: string, units: number): KeyUnits => ({
      index: "table",
      key,
      pattern: keyPattern(key),
      units,
      writes: units,
      owner: null,
    });
    // 100 SKU units in all; the tail SKU was hit far more than its 5 % in this sample
    const rows = [
      row("SKU#s-hot", 20),
      row("SKU#s-hot#1", 20),
      row("SKU#s-hot#2", 10),
      row("SKU#s-hot#3", 10),
      row("SKU#s-mid", 16),
      row("SKU#s-tail", 24),
    ];
    const summary = summarize(rows, 10, { spread: popular });
    expect(summary.hottestKeys.map((k) => [k.key, k.writeUnitsPerOrder, k.groupWriteUnitsPerOrder])).toEqual([
      ["SKU#s-hot (each of 4 shards)", 2, 8],
      ["SKU#s-mid", 1.5, 1.5],
      ["SKU#s-tail", 0.5, 0.5],
    ]);
    expect(summary.ceilingOrdersPerSecond).toBe(500);
    expect(summary.observed.hottest).toMatchObject({ key: "SKU#s-tail", writeUnitsPerOrder: 2.4 });
  });

  it("divides over the keys seen when more shards were written than the writer's count (a re-shard mid-run)", () => {
    const rows = [0, 1, 2, 3, 4, 5].map(
      (k): KeyUnits => ({
        index: "table",
        key: k ? `SKU#s-hot#${k}` : "SKU#s-hot",
        pattern: "SKU#<id>",
        units: 6,
        writes: 3,
        owner: null,
      }),
    );
    expect(summarize(rows, 6, { spread }).hottest).toMatchObject({ shards: 6, writeUnitsPerOrder: 1 });
  });

  it("matches the client's transactional flags to stream records per item, in order", () => {
    const flags = new Map([
      ["A", [true, false]],
      ["B", [false]],
    ]);
    expect(matchTransactional([{ itemKey: "A" }, { itemKey: "B" }, { itemKey: "A" }, { itemKey: "C" }], flags)).toEqual(
      [true, false, false, false],
    );
  });
});
