import { describe, expect, it } from "vitest";
import { ShardCount, tableDefinition } from "../../core/store/table.js";
import { scanTable } from "../support/fixtures.js";
import { useRelaySuite } from "./support.js";

// The key design at scale: after a mixed workload, every partition key of every index is either per-entity
// (one user, one listing shard) or one of N shards of a spread key; nothing is a constant every writer shares.

const suite = useRelaySuite();

/** The index partition keys the design allows, with how many distinct values each spread key may take. */
const allowed: { pattern: RegExp; shards?: number }[] = [
  { pattern: /^USER#[^#]+$/ },
  { pattern: /^PAYMENT_DUE#(\d+)$/, shards: ShardCount.paymentDeadlines },
  { pattern: /^LISTING#[^#]+#(\d+)$/, shards: ShardCount.relaysByListing },
  { pattern: /^RELAY_STATUS#[a-z]+#(\d+)$/, shards: ShardCount.relaysByStatus },
  { pattern: /^RELAY_(?:RETRY|ATTENTION)#(\d+)$/, shards: ShardCount.relayRetry },
];

describe("index keys that scale", () => {
  it("declares every index KEYS_ONLY, so an entry is written only when its keys change", () => {
    for (const index of Object.values(tableDefinition.globalIndexes)) expect(index.projection).toBe("KEYS_ONLY");
  });

  it("writes no constant or low-cardinality index key, and spreads each work queue over its shards", async () => {
    const orders = await Promise.all(Array.from({ length: 12 }, () => suite.kit.placeOrder()));
    const relays = await Promise.all(
      Array.from({ length: 12 }, (_, i) => suite.kit.relayAfterFirstDispatch(i % 3 === 0 ? "fail" : "accept")),
    );
    const items = await scanTable();
    const seen = new Map<RegExp, Set<string>>();
    for (const item of items) {
      for (const index of Object.values(tableDefinition.globalIndexes)) {
        const key = item[index.partitionKey];
        if (key === undefined) continue;
        const rule = allowed.find((a) => a.pattern.test(String(key)));
        expect(rule, `${index.partitionKey} = ${String(key)} on ${String(item.pk)}`).toBeDefined();
        const shard = rule!.shards === undefined ? undefined : Number(rule!.pattern.exec(String(key))![1]);
        if (shard !== undefined) expect(shard).toBeLessThan(rule!.shards!);
        seen.set(rule!.pattern, (seen.get(rule!.pattern) ?? new Set()).add(String(key)));
      }
    }
    // 12 orders awaiting payment over 64 deadline shards, 12 relays over 16 status shards: spread, not stacked.
    expect(seen.get(allowed[1]!.pattern)!.size).toBeGreaterThanOrEqual(6);
    expect(seen.get(allowed[3]!.pattern)!.size).toBeGreaterThanOrEqual(5);
    // The lists read back whole from the shards, newest first.
    const byStatus = await suite.call("GET", "/internal/relays?status=relayed&limit=100");
    const relayed = relays.filter((r) => r.relay.status === "relayed").map((r) => r.relay.relayId as string);
    expect(
      (byStatus.body.items as { relayId: string }[]).map((r) => r.relayId).filter((id) => relayed.includes(id)),
    ).toEqual([...relayed].sort().reverse());
    const mine = await suite.call("GET", "/api/v1/orders?userId=u-relay&limit=5");
    expect(mine.body.items).toHaveLength(5);
    const rest = await suite.call("GET", `/api/v1/orders?userId=u-relay&limit=100&cursor=${mine.body.nextCursor}`);
    const listed = [...mine.body.items, ...rest.body.items].map((o: { orderId: string }) => o.orderId);
    expect(listed.filter((id) => orders.includes(id))).toEqual([...orders].sort().reverse());
  });
});
