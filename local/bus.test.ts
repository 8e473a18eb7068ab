import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runWithinDeadline } from "../core/retry.js";
import { type BusEvent, LocalBus } from "./bus.js";
import { createGateway } from "./gateway.js";
import { calls } from "./testdata/bus-targets.js";

let bus: LocalBus;
let gateway: Server;
let gatewayUrl: string;
let eventBridge: EventBridgeClient;
const logged: string[] = [];

beforeAll(async () => {
  bus = new LocalBus({
    rules: [
      {
        name: "Recorded",
        pattern: { source: ["test.payments"], "detail-type": ["Payment Succeeded", "Payment Failed"] },
        handler: "local/testdata/bus-targets.record",
      },
      {
        name: "AlsoRecorded",
        pattern: { source: ["test.payments"], detail: { amount: [{ numeric: [">", 1000] }] } },
        handler: "local/testdata/bus-targets.record",
      },
      { name: "Broken", pattern: { source: ["test.broken"] }, handler: "local/testdata/bus-targets.alwaysFails" },
      { name: "Flaky", pattern: { source: ["test.flaky"] }, handler: "local/testdata/bus-targets.failsOnce" },
    ],
    retry: { retries: 2, baseDelayMs: 10 },
    busNames: ["orderline-test"],
    log: (line) => logged.push(line),
  });
  await bus.listen();
  gateway = createGateway([bus.route]);
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", () => resolve()));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  // Any credentials: the local bus does not check signatures.
  eventBridge = new EventBridgeClient({
    endpoint: bus.endpoint,
    region: "local",
    credentials: { accessKeyId: "any", secretAccessKey: "any" },
  });
});

afterAll(async () => {
  eventBridge?.destroy();
  gateway?.closeAllConnections();
  await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
  await bus?.close();
});

const entry = (
  source: string,
  detailType: string,
  detail: Record<string, unknown>,
  extra: Partial<PutEventsRequestEntry> = {},
): PutEventsRequestEntry => ({
  Source: source,
  DetailType: detailType,
  Detail: JSON.stringify(detail),
  EventBusName: "orderline-test",
  ...extra,
});

async function listEvents(query: string) {
  const response = await fetch(`${gatewayUrl}/_local/events${query}`);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: (await response.json()) as any,
  };
}

describe("PutEvents from the real EventBridge client", () => {
  it("stores the event in the shape EventBridge delivers and answers with its id", async () => {
    const time = new Date("2024-05-06T07:08:09.123Z");
    const out = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry(
            "test.payments",
            "Payment Succeeded",
            { orderId: "o-1", paymentId: "p-1" },
            { Time: time, Resources: ["arn:aws:test:::payment/p-1"] },
          ),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(1);
    const id = out.Entries![0]!.EventId!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(bus.events({ source: "test.payments" }).find((e) => e.id === id)).toEqual({
      version: "0",
      id,
      "detail-type": "Payment Succeeded",
      source: "test.payments",
      account: "000000000000",
      time: "2024-05-06T07:08:09Z",
      region: "local",
      resources: ["arn:aws:test:::payment/p-1"],
      detail: { orderId: "o-1", paymentId: "p-1" },
    } satisfies BusEvent);
  });

  it("defaults time to now and resources to []", async () => {
    const before = Date.now() - 1000;
    const out = await eventBridge.send(new PutEventsCommand({ Entries: [entry("test.other", "Something", { n: 1 })] }));
    const event = await bus.waitFor((e) => e.id === out.Entries![0]!.EventId, 1000);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(event.resources).toEqual([]);
  });

  it("answers per-entry errors like the service and keeps the valid entries", async () => {
    const out = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry("test.other", "Valid", { ok: true }),
          { DetailType: "No source", Detail: "{}" },
          { Source: "test.other", Detail: "{}" },
          { Source: "test.other", DetailType: "No detail" },
          { Source: "test.other", DetailType: "Not JSON", Detail: "{oops" },
          { Source: "test.other", DetailType: "Array", Detail: "[1,2]" },
          entry("aws.ec2", "Reserved source", {}),
          entry("test.other", "Unknown bus", {}, { EventBusName: "nope" }),
          entry(
            "test.other",
            "Bus by ARN",
            {},
            { EventBusName: "arn:aws:events:local:000000000000:event-bus/orderline-test" },
          ),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(7);
    const [valid, noSource, noDetailType, noDetail, notJson, array, reserved, unknownBus, byArn] = out.Entries!;
    expect(valid!.EventId).toBeTruthy();
    expect(noSource).toEqual({
      ErrorCode: "InvalidArgument",
      ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument.",
    });
    expect(noDetailType).toMatchObject({ ErrorCode: "InvalidArgument" });
    expect(noDetail).toMatchObject({ ErrorCode: "InvalidArgument" });
    expect(notJson).toEqual({ ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." });
    expect(array).toEqual({ ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." });
    expect(reserved).toMatchObject({ ErrorCode: "NotAuthorizedForSourceException" });
    expect(unknownBus).toMatchObject({ ErrorCode: "ResourceNotFoundException" });
    expect(byArn!.EventId).toBeTruthy();
    for (const failed of [noSource, noDetailType, noDetail, notJson, array, reserved, unknownBus])
      expect(failed!.EventId).toBeUndefined();
    expect(bus.events({ detailType: "Not JSON" })).toEqual([]);
  });

  it("rejects more than 10 entries as a whole with ValidationException", async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry("test.other", "Bulk", { i }));
    await expect(eventBridge.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    expect(bus.events({ detailType: "Bulk" })).toEqual([]);
  });

  it("answers operations it does not implement with UnknownOperationException", async () => {
    const response = await fetch(bus.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.ListRules" },
      body: "{}",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
  });
});

describe("delivery to rules", () => {
  it("calls every matching rule's handler with the delivered event and a Lambda context", async () => {
    const out = await eventBridge.send(
      new PutEventsCommand({ Entries: [entry("test.payments", "Payment Failed", { orderId: "o-2", amount: 5000 })] }),
    );
    const id = out.Entries![0]!.EventId!;
    await vi.waitFor(() => expect(calls.filter((c) => c.event.id === id)).toHaveLength(2), {
      timeout: 2000,
      interval: 10,
    });
    const mine = calls.filter((c) => c.event.id === id);
    expect(mine.map((c) => c.functionName).sort()).toEqual(["orderline-AlsoRecorded", "orderline-Recorded"]);
    expect(mine[0]!.event).toMatchObject({
      source: "test.payments",
      "detail-type": "Payment Failed",
      detail: { orderId: "o-2", amount: 5000 },
    });
    await bus.idle();
    expect(
      bus
        .deliveries(id)
        .map((d) => [d.rule, d.status, d.attempts])
        .sort(),
    ).toEqual([
      ["AlsoRecorded", "delivered", 1],
      ["Recorded", "delivered", 1],
    ]);
  });

  it("does not call rules whose pattern does not match", async () => {
    const out = await eventBridge.send(
      new PutEventsCommand({ Entries: [entry("test.payments", "Refund Succeeded", { orderId: "o-3", amount: 5 })] }),
    );
    await bus.idle();
    expect(calls.filter((c) => c.event.id === out.Entries![0]!.EventId)).toEqual([]);
    expect(bus.deliveries(out.Entries![0]!.EventId)).toEqual([]);
  });

  it("retries a failing handler, then dead-letters the event and logs it", async () => {
    const out = await eventBridge.send(
      new PutEventsCommand({ Entries: [entry("test.broken", "Anything", { orderId: "o-4" })] }),
    );
    const id = out.Entries![0]!.EventId!;
    await bus.idle();
    expect(calls.filter((c) => c.event.id === id && c.target === "alwaysFails")).toHaveLength(3);
    expect(bus.deadLetters).toContainEqual(
      expect.objectContaining({
        rule: "Broken",
        attempts: 3,
        error: "target is down",
        event: expect.objectContaining({ id }),
      }),
    );
    expect(bus.deliveries(id)).toEqual([{ eventId: id, rule: "Broken", status: "dead-lettered", attempts: 3 }]);
    expect(logged.some((line) => line.includes("dead letter") && line.includes(id))).toBe(true);
  });

  it("retries a target as EventBridge does, even when the event was put by an invocation out of time", async () => {
    // The publisher's deadline is its own: the target's retries are the bus's, as they are EventBridge's in AWS.
    const out = runWithinDeadline(Date.now() - 1, () =>
      bus.putEvents([{ Source: "test.broken", DetailType: "Anything", Detail: "{}", EventBusName: "orderline-test" }]),
    );
    const id = (out.Entries[0] as { EventId: string }).EventId;
    await bus.idle();
    expect(bus.deliveries(id)).toEqual([{ eventId: id, rule: "Broken", status: "dead-lettered", attempts: 3 }]);
  });

  it("a handler that fails once is delivered on the retry", async () => {
    const out = await eventBridge.send(new PutEventsCommand({ Entries: [entry("test.flaky", "Anything", {})] }));
    const id = out.Entries![0]!.EventId!;
    await bus.idle();
    expect(bus.deliveries(id)).toEqual([{ eventId: id, rule: "Flaky", status: "delivered", attempts: 2 }]);
    expect(bus.deadLetters.some((d) => d.event.id === id)).toBe(false);
  });

  it("waitFor takes a predicate or an event pattern, and times out", async () => {
    const waiting = bus.waitFor({ source: ["test.wait"], detail: { n: [{ numeric: [">", 1] }] } }, 2000);
    await eventBridge.send(
      new PutEventsCommand({ Entries: [entry("test.wait", "W", { n: 1 }), entry("test.wait", "W", { n: 2 })] }),
    );
    expect((await waiting).detail).toEqual({ n: 2 });
    expect((await bus.waitFor((e) => e.source === "test.wait", 10)).detail).toEqual({ n: 1 });
    await expect(bus.waitFor({ source: ["never"] }, 20)).rejects.toThrow(/within 20 ms/);
  });

  it("compiles the project's own rules by default", () => {
    expect(() => new LocalBus({ log: () => undefined })).not.toThrow();
  });
});

describe("GET /_local/events", () => {
  beforeAll(async () => {
    const entries = Array.from({ length: 5 }, (_, i) => entry("test.list", i % 2 === 0 ? "Even" : "Odd", { i }));
    await eventBridge.send(new PutEventsCommand({ Entries: entries }));
    await eventBridge.send(new PutEventsCommand({ Entries: [entry("test.list2", "Even", { i: 99 })] }));
  });

  it("lists events oldest first, filtered by source and detailType", async () => {
    const all = await listEvents("?source=test.list");
    expect(all.status).toBe(200);
    expect(all.body.items.map((e: BusEvent) => e.detail.i)).toEqual([0, 1, 2, 3, 4]);
    expect(all.body.nextCursor).toBeNull();
    expect(Object.keys(all.body.items[0]).sort()).toEqual([
      "account",
      "detail",
      "detail-type",
      "id",
      "region",
      "resources",
      "source",
      "time",
      "version",
    ]);
    const even = await listEvents("?source=test.list&detailType=Even");
    expect(even.body.items.map((e: BusEvent) => e.detail.i)).toEqual([0, 2, 4]);
    const evenEverywhere = await listEvents("?detailType=Even&limit=100");
    expect(evenEverywhere.body.items.map((e: BusEvent) => e.detail.i)).toEqual([0, 2, 4, 99]);
  });

  it("paginates with limit and an opaque cursor", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listEvents(
        `?source=test.list&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e: BusEvent) => e.detail.i as number));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(pages).toBe(3);
  });

  it("defaults to 20 items", async () => {
    // Enough events of one source that the default limit, and not the number stored, decides the page size.
    for (let i = 0; i < 3; i++)
      await eventBridge.send(
        new PutEventsCommand({
          Entries: Array.from({ length: 10 }, (_, j) => entry("test.default-limit", "Tick", { i: i * 10 + j })),
        }),
      );
    const page = await listEvents("?source=test.default-limit");
    expect(page.body.items.map((e: BusEvent) => e.detail.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(page.body.nextCursor).not.toBeNull();
    const unfiltered = await listEvents("");
    expect(unfiltered.body.items.length).toBe(Math.min(20, bus.events().length));
    expect(unfiltered.body.nextCursor === null).toBe(bus.events().length <= 20);
  });

  it.each(["limit=0", "limit=101", "limit=abc", "limit=2.5", "cursor=not-a-cursor", "detail_type=ORDER_CREATED"])(
    "rejects %s with a problem",
    async (query) => {
      const response = await listEvents(`?${query}`);
      expect(response.status).toBe(400);
      expect(response.contentType).toBe("application/problem+json");
      expect(response.body).toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
    },
  );
});
