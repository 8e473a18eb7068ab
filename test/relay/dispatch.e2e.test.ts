import { describe, expect, it, vi } from "vitest";
import { verify } from "../../core/relay/signing.js";
import { retryRelays } from "../../functions/admin/relay-retry.js";
import { metrics } from "../../functions/powertools.js";
import { dispatchRelayCreated } from "../../functions/relay/dispatch.js";
import { lambdaContext } from "../../local/lambda.js";
import { setEnv } from "../support/env.js";
import { scanTable } from "../support/fixtures.js";
import { expectProblem, SECRET, useRelaySuite } from "./support.js";

// Supplier dispatch against a real local supplier server: success, 5xx, timeouts, refusals, no auto-heal,
// admin retry (HTTP and Lambda), the dispatcher Lambda, idempotency keys and signatures.

const suite = useRelaySuite();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectSigned(relayId: string) {
  const requests = suite.supplier.requestsFor(relayId);
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) {
    expect(r.headers["idempotency-key"]).toBe(relayId);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(verify(r.body, SECRET, r.headers["x-orderline-signature"] as string)).toBe(true);
  }
  return requests;
}

/** Captures the metrics the handlers emit (same Powertools instance as the in-process handlers). */
function captureMetrics() {
  const names: string[] = [];
  const spy = vi.spyOn(metrics, "singleMetric").mockImplementation(() => {
    const single = { addDimension: () => single, addMetric: (name: string) => void names.push(name) };
    return single as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  return { names, restore: () => spy.mockRestore() };
}

describe("dispatch to the supplier", () => {
  it("POSTs the contract payload, signed, with Idempotency-Key, and moves the relay to relayed", async () => {
    const { listing, relay } = await suite.kit.relayAfterFirstDispatch("accept");
    expect(relay).toMatchObject({ status: "relayed", supplierId: listing.supplierId, dispatchAttempts: 1 });
    expect(relay.relayedAt).toEqual(expect.any(String));
    expect(relay.metadata.lastError).toBeUndefined();
    const [request, ...more] = expectSigned(relay.relayId);
    expect(more).toHaveLength(0);
    expect(request!.path).toBe("/orders");
    expect(JSON.parse(request!.body)).toEqual({
      relayId: relay.relayId,
      orderNumber: relay.orderNumber,
      listingId: listing.listingId,
      supplierOfferId: listing.supplierOfferId,
      quantity: 2,
      customerInfo: { name: "Kim Minji", phone: "010-1234-5678" },
      shippingInfo: { address: "1 Sejong-daero, Seoul", carrier: null, trackingNumber: null },
    });
  });

  it("retries a 5xx quickly within the attempt and succeeds on the same Idempotency-Key", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.script(listing.listingId, ["fail", "fail"]);
    const created = await suite.kit.create(listing.listingId);
    const relay = await suite.kit.firstDispatch(created.relayId);
    expect(relay.status).toBe("relayed");
    expect(relay.dispatchAttempts).toBe(1);
    expect(expectSigned(relay.relayId)).toHaveLength(3);
    const call1 = (await suite.kit.audit(relay.relayId)).find((a) => a.kind === "EXTERNAL_CALL")!;
    expect(call1.response.tries.map((t: any) => t.status)).toEqual([503, 503, 202]);
  });

  it("on a persistent 5xx: 2 quick retries, then pending with lastError, a failed EXTERNAL_CALL, and 502 on demand", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("fail");
    expect(relay.status).toBe("pending");
    expect(relay.metadata.lastError).toMatchObject({ message: expect.stringContaining("503"), attempt: 1 });
    expect(new Date(relay.metadata.lastError.at).toISOString()).toBe(relay.metadata.lastError.at);
    expect(expectSigned(relay.relayId)).toHaveLength(3);
    const failed = (await suite.kit.audit(relay.relayId)).filter((a) => a.kind === "EXTERNAL_CALL");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      success: false,
      attempt: 1,
      after: { lastError: relay.metadata.lastError },
      status: "pending",
    });

    const again = await suite.call("POST", `/internal/relays/${relay.relayId}/dispatch`, undefined, {
      "x-actor": "ops-1",
    });
    expectProblem(again, 502, "RELAY_SEND_FAILED");
    const after = await suite.kit.get(relay.relayId);
    // The problem names the relay and its failure only: never the relay itself (customerInfo is personal data).
    expect(again.body).toEqual({
      type: "urn:orderline:problem:relay-send-failed",
      title: "Bad Gateway",
      status: 502,
      code: "RELAY_SEND_FAILED",
      detail: expect.stringContaining("503"),
      requestId: expect.any(String),
      relayId: relay.relayId,
      currentStatus: "pending",
      dispatchAttempts: 2,
      lastError: after.metadata.lastError,
    });
    expect(JSON.stringify(again.body)).not.toMatch(
      /Kim Minji|010-1234-5678|Sejong-daero|customerInfo|shippingInfo|orderNumber/,
    );
    expect(after).toMatchObject({ status: "pending", dispatchAttempts: 2, metadata: { lastError: { attempt: 2 } } });
    expect(expectSigned(relay.relayId)).toHaveLength(6);
  });

  it("times out a hanging supplier quickly (configurable timeout), keeping the relay pending", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.behave(listing.listingId, "hang");
    const created = await suite.kit.create(listing.listingId);
    const started = Date.now();
    const relay = await suite.kit.firstDispatch(created.relayId);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(relay.status).toBe("pending");
    expect(relay.metadata.lastError.message).toMatch(/did not answer within 300 ms/);
    expect(expectSigned(relay.relayId)).toHaveLength(3);
  });

  it("treats a refusal (4xx with a reason) as cancellation with that reason", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.behave(listing.listingId, { refuse: "discontinued item" });
    const created = await suite.kit.create(listing.listingId);
    const relay = await suite.kit.firstDispatch(created.relayId, "ops-2");
    expect(relay).toMatchObject({ status: "cancelled", cancelReason: "discontinued item" });
    expect(expectSigned(relay.relayId)).toHaveLength(1);
    const audit = await suite.kit.audit(relay.relayId);
    expect(audit.slice(1).map((a) => a.kind)).toEqual(["EXTERNAL_CALL", "CANCELLATION"]);
    expect(audit[2]).toMatchObject({
      reason: "discontinued item",
      requestedBy: `supplier:${listing.supplierId}`,
      after: { status: "cancelled" },
    });
  });

  it("does not cancel on a 4xx without a reason: it is a failed attempt, not retried quickly", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("refuse-no-reason");
    expect(relay.status).toBe("pending");
    expect(relay.metadata.lastError.message).toMatch(/400 without a refusal reason/);
    expect(suite.supplier.requestsFor(relay.relayId)).toHaveLength(1);
  });

  it("records a failure when the supplier is unreachable or not registered", async () => {
    const unreachable = await suite.kit.newSupplier("http://127.0.0.1:9/orders");
    const listingA = await suite.kit.newListing({ supplierId: unreachable });
    const a = await suite.kit.firstDispatch((await suite.kit.create(listingA.listingId)).relayId);
    expect(a.status).toBe("pending");
    expect(a.metadata.lastError.message).toMatch(/network error/);

    const listingB = await suite.kit.newListing({ supplierId: "sup-never-registered" });
    const b = await suite.kit.firstDispatch((await suite.kit.create(listingB.listingId)).relayId);
    expect(b.status).toBe("pending");
    expect(b.metadata.lastError.message).toMatch(/sup-never-registered is not registered/);
  });

  it("sends one attempt when concurrent on-demand dispatches race", async () => {
    const { listing, relay } = await suite.kit.relayAfterFirstDispatch("fail");
    suite.supplier.behave(listing.listingId, "accept");
    const before = suite.supplier.requestsFor(relay.relayId).length;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => suite.call("POST", `/internal/relays/${relay.relayId}/dispatch`)),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200))
      expect(["CONCURRENT_MODIFICATION", "INVALID_TRANSITION"]).toContain(r.body.code);
    expect(suite.supplier.requestsFor(relay.relayId).length - before).toBe(1);
    expect(await suite.kit.get(relay.relayId)).toMatchObject({ status: "relayed", dispatchAttempts: 2 });
  });
});

describe("no auto-heal (DS-4.1 §7.1) and admin retry", () => {
  it("leaves a failed relay pending until an admin retries; the retry succeeds after recovery on the same Idempotency-Key", async () => {
    const { listing, relay } = await suite.kit.relayAfterFirstDispatch("fail");
    expect(relay.status).toBe("pending");
    const sent = suite.supplier.requestsFor(relay.relayId).length;

    suite.supplier.behave(listing.listingId, "accept"); // the supplier recovers
    await sleep(1_500);
    const idle = await suite.kit.get(relay.relayId);
    expect(idle).toMatchObject({ status: "pending", dispatchAttempts: 1, version: relay.version });
    expect(idle.metadata.lastError).toBeDefined();
    expect(suite.supplier.requestsFor(relay.relayId)).toHaveLength(sent);

    const retried = await suite.call(
      "POST",
      "/admin/relays/retry",
      { relayIds: [relay.relayId], reason: "supplier back online" },
      { "x-actor": "admin-jane" },
    );
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({
      results: [{ relayId: relay.relayId, outcome: "relayed", status: "relayed", attempt: 2, attemptsExceeded: false }],
      more: false,
      nextCursor: null,
    });
    const after = await suite.kit.get(relay.relayId);
    expect(after).toMatchObject({ status: "relayed", dispatchAttempts: 2 });
    expect(after.metadata.lastError).toBeUndefined();
    const keys = new Set(expectSigned(relay.relayId).map((r) => r.headers["idempotency-key"]));
    expect([...keys]).toEqual([relay.relayId]);
    const audit = await suite.kit.audit(relay.relayId);
    const retryCall = audit.filter((a) => a.kind === "EXTERNAL_CALL").at(-1);
    expect(retryCall).toMatchObject({
      actor: "admin-jane",
      reason: "supplier back online",
      attempt: 2,
      success: true,
      request: { trigger: "retry" },
    });
    expect(audit.at(-1)).toMatchObject({ kind: "STATUS_CHANGE", actor: "admin-jane", after: { status: "relayed" } });
  });

  it("retries every pending relay with a lastError when no ids are given, and reports each", async () => {
    const a = await suite.kit.relayAfterFirstDispatch("fail");
    const b = await suite.kit.relayAfterFirstDispatch("fail");
    suite.supplier.behave(a.listing.listingId, "accept");
    const retried = await suite.call(
      "POST",
      "/admin/relays/retry",
      { reason: "sweep", limit: 100 },
      { "x-actor": "admin-joe" },
    );
    expect(retried.status).toBe(200);
    const byId = new Map(retried.body.results.map((r: any) => [r.relayId, r]));
    expect(byId.get(a.relay.relayId)).toMatchObject({ outcome: "relayed", status: "relayed", attempt: 2 });
    expect(byId.get(b.relay.relayId)).toMatchObject({
      outcome: "failed",
      status: "pending",
      attempt: 2,
      message: expect.stringContaining("503"),
    });
    expect(retried.body.results.every((r: any) => r.outcome !== "skipped")).toBe(true);
  });

  it("reports skipped and unknown relays without failing the others", async () => {
    const relayed = await suite.kit.relayIn("relayed");
    const retried = await suite.call("POST", "/admin/relays/retry", { relayIds: [relayed.relayId, "01NOSUCHRELAY"] });
    expect(retried.status).toBe(200);
    expect(retried.body.results).toEqual([
      {
        relayId: relayed.relayId,
        outcome: "skipped",
        skipped: "not_pending",
        status: "relayed",
        attempt: null,
        attemptsExceeded: false,
      },
      expect.objectContaining({ relayId: "01NOSUCHRELAY", outcome: "not_found", status: null }),
    ]);
    expectProblem(await suite.call("POST", "/admin/relays/retry", { relayIds: [] }), 400, "VALIDATION_ERROR");
    expectProblem(
      await suite.call("POST", "/admin/relays/retry", { relayIds: ["x"], extra: 1 }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("raises relay_attempts_exceeded_total once a relay's failed attempts pass the threshold (3 in tests)", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("fail");
    // The automatic first dispatch records its failure before it counts it: let every delivery in flight (this
    // relay's, and any earlier test's) finish, so the capture below sees only the three retries.
    await suite.runtime.poller.drained();
    await suite.runtime.bus.idle();
    const metricsSeen = captureMetrics();
    try {
      const results = [];
      for (let i = 0; i < 3; i++) {
        const r = await retryRelays(
          { relayIds: [relay.relayId], reason: "keep trying", actor: "admin-lambda-user" },
          lambdaContext("RelayRetry"),
        );
        results.push(r.results[0]!);
      }
      expect(results.map((r) => [r.attempt, r.outcome, r.attemptsExceeded])).toEqual([
        [2, "failed", false],
        [3, "failed", false],
        [4, "failed", true],
      ]);
      expect(metricsSeen.names.filter((n) => n === "relay_dispatch_failed_total")).toHaveLength(3);
      expect(metricsSeen.names.filter((n) => n === "relay_attempts_exceeded_total")).toHaveLength(1);
    } finally {
      metricsSeen.restore();
    }
    const audit = await suite.kit.audit(relay.relayId);
    expect(audit.filter((a) => a.kind === "EXTERNAL_CALL").map((a) => [a.attempt, a.actor, a.reason])).toEqual([
      [
        1,
        suite.autoDispatch ? "system:relay-dispatcher" : "ops-tester",
        suite.autoDispatch ? "RELAY_CREATED" : "on-demand dispatch",
      ],
      [2, "admin-lambda-user", "keep trying"],
      [3, "admin-lambda-user", "keep trying"],
      [4, "admin-lambda-user", "keep trying"],
    ]);
    expect((await suite.kit.get(relay.relayId)).status).toBe("pending");
  });

  it("the RelayRetry Lambda validates its input and needs a reason", async () => {
    await expect(retryRelays({ relayIds: ["x"] }, lambdaContext("RelayRetry"))).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
    });
    const ok = await retryRelays({ relayIds: ["01NOSUCHRELAY"], reason: "check" }, lambdaContext("RelayRetry"));
    expect(ok.results[0]).toMatchObject({ outcome: "not_found" });
  });

  it("over HTTP takes at most one round of relayIds (10), pointing larger batches at the RelayRetry function", async () => {
    const unknown = (n: number) => Array.from({ length: n }, (_, i) => `01NOSUCHRELAY${String(i).padStart(3, "0")}`);
    const { relay } = await suite.kit.relayAfterFirstDispatch("fail");
    const refused = await suite.call("POST", "/admin/relays/retry", {
      relayIds: [relay.relayId, ...unknown(10)],
      reason: "batch",
    });
    expectProblem(refused, 400, "VALIDATION_ERROR");
    expect(refused.body.errors).toEqual([
      { path: "relayIds", message: expect.stringMatching(/at most 10 .*RelayRetry function/) },
    ]);
    expect(await suite.kit.get(relay.relayId)).toMatchObject({ dispatchAttempts: 1, version: relay.version });

    const round = await suite.call("POST", "/admin/relays/retry", {
      relayIds: [relay.relayId, ...unknown(9)],
      reason: "batch",
    });
    expect(round.status, JSON.stringify(round.body)).toBe(200);
    expect(round.body.results).toHaveLength(10);
    expect(round.body.results[0]).toMatchObject({ relayId: relay.relayId, outcome: "failed", attempt: 2 });

    // The RelayRetry function (no API Gateway in front of it) keeps taking up to 100.
    const lambda = await retryRelays({ relayIds: unknown(100), reason: "big batch" }, lambdaContext("RelayRetry"));
    expect(lambda.results).toHaveLength(100);
    expect(lambda.results.every((r) => r.outcome === "not_found")).toBe(true);
    await expect(
      retryRelays({ relayIds: unknown(101), reason: "too big" }, lambdaContext("RelayRetry")),
    ).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
    });
  });

  it("over HTTP re-dispatches at most one round (10) of queued relays, even when asked for more; the Lambda takes more", async () => {
    // Each sweep retries the oldest queued relays again: keep them all below the attention threshold (a relay past
    // it leaves the queue), so the queue holds more than one round throughout.
    const threshold = process.env.ORDERLINE_RELAY_ATTEMPT_THRESHOLD;
    setEnv({ ORDERLINE_RELAY_ATTEMPT_THRESHOLD: "100" });
    try {
      await Promise.all(Array.from({ length: 11 }, () => suite.kit.relayAfterFirstDispatch("fail")));
      for (const body of [{ reason: "sweep", limit: 100 }, { reason: "sweep", limit: 11 }, { reason: "sweep" }]) {
        const swept = await suite.call("POST", "/admin/relays/retry", body, { "x-actor": "admin-joe" });
        expect(swept.status, JSON.stringify(swept.body)).toBe(200);
        expect(swept.body.results).toHaveLength(10);
        expect(swept.body.more).toBe(true);
      }
      expectProblem(
        await suite.call("POST", "/admin/relays/retry", { reason: "sweep", limit: 0 }),
        400,
        "VALIDATION_ERROR",
      );
      const lambda = await retryRelays({ reason: "sweep", limit: 100 }, lambdaContext("RelayRetry"));
      expect(lambda.results.length).toBeGreaterThan(10);
    } finally {
      setEnv({ ORDERLINE_RELAY_ATTEMPT_THRESHOLD: threshold });
    }
  });
});

describe("the RELAY_CREATED dispatcher", () => {
  const event = (relayId: unknown, id = `evt-${Date.now()}`) => ({
    version: "0",
    id,
    "detail-type": "RELAY_CREATED",
    source: "orderline.relays",
    account: "000000000000",
    time: new Date().toISOString(),
    region: "local",
    resources: [],
    detail: { relayId, kind: "STATUS_CHANGE", status: "pending" },
  });

  it("dispatches a new relay, and a redelivered event for a dispatched relay is a no-op", async () => {
    const listing = await suite.kit.newListing();
    const created = await suite.kit.create(listing.listingId);
    const first = await dispatchRelayCreated(event(created.relayId));
    // With the runtime's own event pipeline running, the automatic dispatch may have won the race.
    expect(["relayed", "skipped"]).toContain(first.outcome);
    const relay = await suite.kit.waitFor(created.relayId, (r) => r.status === "relayed");
    expect(relay.dispatchAttempts).toBe(1);
    const sent = suite.supplier.requestsFor(created.relayId).length;
    const auditLength = (await suite.kit.audit(created.relayId)).length;

    const again = await dispatchRelayCreated(event(created.relayId));
    expect(again.outcome).toBe("skipped");
    expect(suite.supplier.requestsFor(created.relayId)).toHaveLength(sent);
    expect(await suite.kit.audit(created.relayId)).toHaveLength(auditLength);
    expect(await suite.kit.get(created.relayId)).toEqual(relay);
  });

  it("records a supplier failure without throwing (a business outcome), and ignores malformed or unknown events", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.behave(listing.listingId, "fail");
    const created = await suite.kit.create(listing.listingId);
    const result = await dispatchRelayCreated(event(created.relayId));
    expect(["failed", "skipped"]).toContain(result.outcome);
    await suite.kit.waitFor(created.relayId, suite.kit.attemptDone);
    await expect(dispatchRelayCreated(event("01NOSUCHRELAY"))).resolves.toMatchObject({ outcome: "ignored" });
    await expect(dispatchRelayCreated(event(42))).resolves.toMatchObject({ outcome: "ignored" });
    await expect(dispatchRelayCreated({ ...event("x"), "detail-type": "SOMETHING_ELSE" })).resolves.toMatchObject({
      outcome: "ignored",
    });
  });
});

describe("what dispatch stores", () => {
  it("keeps request/response summaries, never the customer's data, in EXTERNAL_CALL entries", async () => {
    const items = (await scanTable()).filter((i) => i.entity === "RelayAudit" && i.kind === "EXTERNAL_CALL");
    expect(items.length).toBeGreaterThan(5);
    for (const item of items) {
      const text = JSON.stringify([item.request, item.response]);
      expect(text).not.toContain("Kim Minji");
      expect(text).not.toContain("010-1234-5678");
      expect(text).not.toContain("Sejong");
    }
  });
});
