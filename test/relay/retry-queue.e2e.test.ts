import { describe, expect, it } from "vitest";
import { useRelaySuite } from "./support.js";

// The admin retry queue (gsi3, sharded): cursor paging reaches every failed relay, and a relay past the attempt
// threshold (ORDERLINE_RELAY_ATTEMPT_THRESHOLD=3 in these suites) is listed for a person instead of retried blindly.

const suite = useRelaySuite();

async function sweep(cursor?: string) {
  const response = await suite.call(
    "POST",
    "/admin/relays/retry",
    { reason: "sweep", ...(cursor ? { cursor } : {}) },
    { "x-actor": "admin-ann" },
  );
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as {
    results: { relayId: string; outcome: string; attempt: number }[];
    more: boolean;
    nextCursor: string | null;
  };
}

async function attentionList(): Promise<string[]> {
  const response = await suite.call("GET", "/internal/relays?needsAttention=true&limit=100");
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body.items as { relayId: string }[]).map((r) => r.relayId);
}

describe("admin retry queue", () => {
  it("reaches every failed relay by following nextCursor, though the first ones keep failing", async () => {
    const relays = await Promise.all(Array.from({ length: 12 }, () => suite.kit.relayAfterFirstDispatch("fail")));
    const ids = relays.map((r) => r.relay.relayId as string);
    const first = await sweep();
    expect(first.results).toHaveLength(10);
    expect(first.more).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await sweep(first.nextCursor!);
    expect(second.nextCursor).toBeNull();
    const reached = [...first.results, ...second.results].map((r) => r.relayId);
    expect(new Set(reached)).toEqual(new Set(ids));
    expect(reached).toHaveLength(12);
    expect([...first.results, ...second.results].every((r) => r.outcome === "failed" && r.attempt === 2)).toBe(true);
    // A fresh sweep starts over: the failures are still queued, oldest first.
    expect((await sweep()).results[0]!.relayId).toBe([...ids].sort()[0]);
  });

  it("lists a relay past the attempt threshold as needing attention and stops retrying it unless named", async () => {
    const { relay, listing } = await suite.kit.relayAfterFirstDispatch("fail");
    const relayId = relay.relayId as string;
    for (let attempt = 2; attempt <= 4; attempt++) {
      const named = await suite.call(
        "POST",
        "/admin/relays/retry",
        { reason: "again", relayIds: [relayId] },
        { "x-actor": "admin-ann" },
      );
      expect(named.body.results[0]).toMatchObject({ relayId, outcome: "failed", attempt });
    }
    expect(await attentionList()).toContain(relayId);
    for (let page = await sweep(); ; page = await sweep(page.nextCursor!)) {
      expect(page.results.map((r) => r.relayId)).not.toContain(relayId);
      if (!page.nextCursor) break;
    }
    // Once the supplier recovers, naming it sends it, and it leaves every failure list.
    suite.supplier.behave(listing.listingId as string, "accept");
    const fixed = await suite.call(
      "POST",
      "/admin/relays/retry",
      { reason: "supplier fixed", relayIds: [relayId] },
      { "x-actor": "admin-ann" },
    );
    expect(fixed.body.results[0]).toMatchObject({ relayId, outcome: "relayed" });
    expect(await attentionList()).not.toContain(relayId);
    expect((await suite.kit.get(relayId)).status).toBe("relayed");
  });

  it("refuses a cursor of another list", async () => {
    await Promise.all([suite.kit.relayAfterFirstDispatch("fail"), suite.kit.relayAfterFirstDispatch("fail")]);
    const other = await suite.call("GET", "/internal/relays?status=pending&limit=1");
    expect(other.status).toBe(200);
    expect(other.body.nextCursor).toEqual(expect.any(String));
    const refused = await suite.call("POST", "/admin/relays/retry", { reason: "x", cursor: other.body.nextCursor });
    expect(refused.status).toBe(400);
    const bogus = await suite.call("POST", "/admin/relays/retry", { reason: "x", cursor: "bm90LWEtY3Vyc29y" });
    expect(bogus.status).toBe(400);
  });

  it("caps a documented limit at one round but refuses one outside the document's 1..100", async () => {
    const capped = await suite.call("POST", "/admin/relays/retry", { reason: "x", limit: 100 });
    expect(capped.status).toBe(200);
    for (const limit of [101, 0, 1.5]) {
      const refused = await suite.call("POST", "/admin/relays/retry", { reason: "x", limit });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ path: "limit" })]);
    }
  });
});
