import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshTable } from "../test/support/table.js";
import { localClient } from "./dynamo.js";
import { StreamPoller } from "./poller.js";
import { state } from "./testdata/stream-target.js";

const handler = "local/testdata/stream-target.handler";
let endpoint: string;
let tableName: string;
let ddb: ReturnType<typeof localClient>;
let poller: StreamPoller;
const logged: string[] = [];

type Item = Record<string, AttributeValue>;
const orderEvent = (run: string, n: number, extra: Item = {}): Item => ({
  pk: { S: `ORDER#${run}` },
  sk: { S: `EVENT#${String(n).padStart(8, "0")}` },
  entity: { S: "OrderEvent" },
  type: { S: "ORDER_CREATED" },
  seq: { N: String(n) },
  ...extra,
});
const put = (item: Item) => ddb.send(new PutItemCommand({ TableName: tableName, Item: item }));
const putAll = (items: Item[]) =>
  ddb.send(
    new TransactWriteItemsCommand({ TransactItems: items.map((Item) => ({ Put: { TableName: tableName, Item } })) }),
  );
const sk = (r: DynamoDBRecord) => `${r.dynamodb!.Keys!.pk!.S}|${r.dynamodb!.Keys!.sk!.S}`;
const deliveredOf = (run: string) => state.batches.flat().filter((r) => r.dynamodb!.Keys!.pk!.S === `ORDER#${run}`);
const succeededOf = (run: string) => state.succeeded.flat().filter((r) => r.dynamodb!.Keys!.pk!.S === `ORDER#${run}`);

beforeAll(async () => {
  ({ endpoint, tableName } = await freshTable("poll"));
  ddb = localClient(endpoint);
  poller = new StreamPoller({
    endpoint,
    tableName,
    handler,
    startAt: "LATEST",
    intervalMs: 50,
    retryDelayMs: 10,
    maxRetries: 2,
    log: (l) => logged.push(l),
  });
  // Written before a LATEST poller starts: never delivered by it.
  await put(orderEvent("before-start", 1));
  await poller.start();
});

afterAll(async () => {
  await poller?.stop();
  ddb?.destroy();
});

describe("the local stream poller", () => {
  it("delivers only inserted OrderEvent and RelayAudit items, in order, in the record shape Lambda delivers", async () => {
    const run = ulid();
    await put(
      orderEvent(run, 1, {
        bytes: { B: new Uint8Array([1, 2, 3]) },
        tags: { SS: ["a", "b"] },
        nested: { M: { l: { L: [{ N: "1.5" }, { NULL: true }, { BOOL: false }] } } },
      }),
    );
    await put({
      pk: { S: `ORDER#${run}` },
      sk: { S: "ORDER" },
      entity: { S: "Order" },
      status: { S: "PAYMENT_PENDING" },
    });
    await put(orderEvent(run, 2));
    await put({ pk: { S: `ORDER#${run}` }, sk: { S: "AUDIT#1" }, entity: { S: "RelayAudit" }, auditId: { S: "a-1" } });
    await put({ pk: { S: `ORDER#${run}` }, sk: { S: "NOENTITY" } });
    // A MODIFY and a REMOVE of an outbox item are not delivered either.
    await ddb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `ORDER#${run}` }, sk: { S: "EVENT#00000002" } },
        UpdateExpression: "SET touched = :t",
        ExpressionAttributeValues: { ":t": { BOOL: true } },
      }),
    );
    await ddb.send(
      new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: `ORDER#${run}` }, sk: { S: "EVENT#00000002" } } }),
    );
    await put(orderEvent(run, 3));
    await poller.drained();

    const records = deliveredOf(run);
    expect(records.map(sk)).toEqual([
      `ORDER#${run}|EVENT#00000001`,
      `ORDER#${run}|EVENT#00000002`,
      `ORDER#${run}|AUDIT#1`,
      `ORDER#${run}|EVENT#00000003`,
    ]);
    const sequence = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(sequence);

    const first = records[0]!;
    expect(Object.keys(first)).toEqual([
      "eventID",
      "eventName",
      "eventVersion",
      "eventSource",
      "awsRegion",
      "dynamodb",
      "eventSourceARN",
    ]);
    expect(first).toMatchObject({
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      eventSourceARN: poller.arn,
    });
    expect(typeof first.eventID).toBe("string");
    expect(typeof first.awsRegion).toBe("string");
    expect(poller.arn).toMatch(new RegExp(`^arn:aws:dynamodb:[^:]+:\\d{12}:table/${tableName}/stream/`));
    const d = first.dynamodb!;
    expect(Object.keys(d)).toEqual([
      "ApproximateCreationDateTime",
      "Keys",
      "NewImage",
      "SequenceNumber",
      "SizeBytes",
      "StreamViewType",
    ]);
    expect(d.Keys).toEqual({ pk: { S: `ORDER#${run}` }, sk: { S: "EVENT#00000001" } });
    expect(d.NewImage).toEqual({
      ...orderEvent(run, 1),
      bytes: { B: "AQID" },
      tags: { SS: ["a", "b"] },
      nested: { M: { l: { L: [{ N: "1.5" }, { NULL: true }, { BOOL: false }] } } },
    });
    expect(d.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
    expect(d.SequenceNumber).toMatch(/^\d+$/);
    expect(d.SizeBytes).toBeGreaterThan(0);
    expect(Math.abs(d.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(120);
    // Lambda sends plain JSON: the record survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(deliveredOf("before-start")).toEqual([]);
  });

  it("delivers empty maps nested at any depth as Lambda does ({ M: {} }), although DynamoDB Local streams them as {}", async () => {
    const run = ulid();
    const data: AttributeValue = {
      M: { a: { M: {} }, b: { L: [{ M: {} }, { M: { c: { M: {} } } }, { L: [] }] }, d: { S: "x" } },
    };
    const audit: Item = {
      pk: { S: `ORDER#${run}` },
      sk: { S: "AUDIT#1" },
      entity: { S: "RelayAudit" },
      after: { M: { shippingInfo: { M: { box: { M: {} } } } } },
    };
    await put(orderEvent(run, 1, { data, empty: { M: {} } }));
    await put(audit);
    await poller.drained();

    const records = deliveredOf(run);
    expect(records).toHaveLength(2);
    expect(records[0]!.dynamodb!.NewImage).toEqual({ ...orderEvent(run, 1), data, empty: { M: {} } });
    expect(records[1]!.dynamodb!.NewImage).toEqual(audit);
    expect(poller.onFailure.filter((f) => f.record.dynamodb!.Keys!.pk!.S === `ORDER#${run}`)).toEqual([]);
  });

  it("redelivers from the first record reported in batchItemFailures", async () => {
    const run = ulid();
    await putAll([orderEvent(run, 1), orderEvent(run, 2, { failTimes: { N: "1" } }), orderEvent(run, 3)]);
    await poller.drained();

    const count = (n: number) => deliveredOf(run).filter((r) => sk(r).endsWith(`EVENT#0000000${n}`)).length;
    expect(count(1)).toBe(1); // checkpointed before the failure: never redelivered
    expect(count(2)).toBe(2); // failed once, then delivered again
    expect(count(3)).toBeGreaterThanOrEqual(1);
    const batches = state.batches
      .map((b) => b.filter((r) => r.dynamodb!.Keys!.pk!.S === `ORDER#${run}`).map(sk))
      .filter((b) => b.length > 0);
    const retried = batches.filter((b) => b[0]!.endsWith("EVENT#00000002"));
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // The failed record and everything after it end up in a batch that succeeded.
    const ok = succeededOf(run).map(sk);
    expect(ok).toContain(`ORDER#${run}|EVENT#00000002`);
    expect(ok).toContain(`ORDER#${run}|EVENT#00000003`);
    expect(poller.onFailure.filter((f) => f.record.dynamodb!.Keys!.pk!.S === `ORDER#${run}`)).toEqual([]);
  });

  it("gives up on a record after maxRetries, records it on the on-failure list and moves on", async () => {
    const run = ulid();
    await putAll([orderEvent(run, 1, { failTimes: { N: "99" } }), orderEvent(run, 2)]);
    await poller.drained();

    const failed = poller.onFailure.filter((f) => f.record.dynamodb!.Keys!.pk!.S === `ORDER#${run}`);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempts: 3, error: "reported in batchItemFailures" });
    expect(sk(failed[0]!.record)).toBe(`ORDER#${run}|EVENT#00000001`);
    expect(deliveredOf(run).filter((r) => sk(r).endsWith("EVENT#00000001"))).toHaveLength(3); // 1 + maxRetries
    expect(succeededOf(run).map(sk)).toContain(`ORDER#${run}|EVENT#00000002`);
    expect(logged.some((l) => l.includes("on-failure") && l.includes(failed[0]!.sequenceNumber))).toBe(true);
  });

  it("bisects a batch whose invocation throws, so only the poison record is dropped", async () => {
    const run = ulid();
    await putAll([
      orderEvent(run, 1),
      orderEvent(run, 2, { poison: { BOOL: true } }),
      orderEvent(run, 3),
      orderEvent(run, 4),
    ]);
    await poller.drained();

    const failed = poller.onFailure.filter((f) => f.record.dynamodb!.Keys!.pk!.S === `ORDER#${run}`);
    expect(failed.map((f) => sk(f.record))).toEqual([`ORDER#${run}|EVENT#00000002`]);
    expect(failed[0]!.error).toMatch(/poison record/);
    const ok = new Set(succeededOf(run).map(sk));
    for (const n of [1, 3, 4]) expect(ok.has(`ORDER#${run}|EVENT#0000000${n}`)).toBe(true);
  });

  it("reads everything from TRIM_HORIZON for a table it created, and stops cleanly", async () => {
    // Its own history, so the test proves the same alone as after the others.
    const run = ulid();
    await putAll([1, 2, 3, 4, 5, 6].map((n) => orderEvent(run, n)));
    const seen: string[] = [];
    const fromStart = new StreamPoller({
      endpoint,
      tableName,
      startAt: "TRIM_HORIZON",
      intervalMs: 20,
      handler: async (event) => {
        seen.push(...event.Records.map(sk));
      },
    });
    await fromStart.start();
    await fromStart.drained();
    expect(seen).toContain("ORDER#before-start|EVENT#00000001");
    for (const n of [1, 2, 3, 4, 5, 6]) expect(seen).toContain(`ORDER#${run}|EVENT#0000000${n}`);
    const started = Date.now();
    await fromStart.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    const before = seen.length;
    await put(orderEvent(ulid(), 1));
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(before);
  });
});
