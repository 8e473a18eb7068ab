import { describe, expect, it } from "vitest";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { keyPattern, matchTransactional, normalizeImage, summarize, unitsByKey } from "../bench/capacity-model.js";
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
    const order = (status: string, extra: Record<string, AttributeValue> = {}) => ({ pk: S("ORDER#o-1"), sk: S("ORDER"), status: S(status), ...extra });
    const queued = { gsi2pk: S("DEADLINE#3"), gsi2sk: S("t#1") };
    const byUser = { gsi1pk: S("USER#u1"), gsi1sk: S("1") };
    const rows = unitsByKey(
      spec,
      [
        { old: undefined, new: order("PENDING", { ...queued, ...byUser }), transactional: true }, // table 2, gsi1 put, gsi2 put
        { old: order("PENDING", { ...queued, ...byUser }), new: order("PAID", byUser), transactional: true }, // table 2, gsi2 delete; gsi1 KEYS_ONLY unchanged
        { old: order("PAID", byUser), new: order("SHIPPED", { ...byUser, note: S("x".repeat(3000)) }), transactional: false }, // table 3
      ],
      [{ pk: S("LISTING#9"), sk: S("LISTING") }],
    );
    const units = Object.fromEntries(rows.map((r) => [`${r.index} ${r.key}`, r.units]));
    expect(units).toEqual({ "table ORDER#o-1": 7, "gsi1 USER#u1": 1, "gsi2 DEADLINE#3": 2, "table LISTING#9": 2 });

    const summary = summarize(rows, 2);
    expect(summary.hottest).toEqual({ index: "table", keyPattern: "ORDER#<id>", key: "ORDER#o-1", writeUnitsPerOrder: 3.5 });
    expect(summary.ceilingOrdersPerSecond).toBe(285);
    expect(summary.totalWriteUnitsPerOrder).toBe(6);
    expect(summary.perIndex).toEqual({ table: 4.5, gsi1: 0.5, gsi2: 1 });
    expect(summary.perPattern.find((p) => p.pattern === "DEADLINE#<n>")).toMatchObject({ index: "gsi2", keys: 1, writeUnitsPerOrder: 1 });
  });

  it("leaves keys of one order (or relay) each out of the ceiling: their load does not grow with the order rate", () => {
    const ordered = (id: string, extra: Record<string, AttributeValue> = {}) => ({ pk: S(`ORDER#${id}`), sk: S("ORDER"), orderId: S(id), ...extra });
    const rows = unitsByKey(spec, [
      // one order's key, written twice for it; its gsi2 entry goes to a queue shard shared with another order
      { old: undefined, new: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a") }), transactional: true },
      { old: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a") }), new: ordered("o-1", { gsi2pk: S("DUE#1"), gsi2sk: S("a"), x: S("y") }), transactional: true },
      { old: undefined, new: ordered("o-2", { gsi2pk: S("DUE#1"), gsi2sk: S("b") }), transactional: true },
      // a SKU names no entity: shared
      { old: undefined, new: { pk: S("SKU#s-1"), sk: S("SKU") }, transactional: true },
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.owner]))).toEqual({ "ORDER#o-1": "order:o-1", "ORDER#o-2": "order:o-2", "DUE#1": null, "SKU#s-1": null });
    const orders = Array.from({ length: 10 }, (_, i) => ({ index: "table", key: `ORDER#o-${i}`, pattern: "ORDER#<id>", units: 30, writes: 8, owner: `order:o-${i}` }));
    const sku = { index: "table", key: "SKU#s-1", pattern: "SKU#<id>", units: 20, writes: 10, owner: null };
    const summary = summarize([...orders, sku], 10);
    expect(summary.hottest).toMatchObject({ key: "SKU#s-1", writeUnitsPerOrder: 2 });
    expect(summary.ceilingOrdersPerSecond).toBe(500);
    expect(summary.ceilingAllKeys).toMatchObject({ key: "ORDER#o-0", ceilingOrdersPerSecond: 333 });
    expect(summary.perPattern.find((p) => p.pattern === "ORDER#<id>")).toMatchObject({ perEntity: true, keys: 10, hottestKeyWriteUnits: 30 });
  });

  it("matches the client's transactional flags to stream records per item, in order", () => {
    const flags = new Map([["A", [true, false]], ["B", [false]]]);
    expect(matchTransactional([{ itemKey: "A" }, { itemKey: "B" }, { itemKey: "A" }, { itemKey: "C" }], flags)).toEqual([true, false, false, false]);
  });
});
