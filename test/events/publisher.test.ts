import {
  EventBridgeClient,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
} from "@aws-sdk/client-eventbridge";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { Order } from "../../core/order/index.js";
import { db } from "../../core/store/client.js";
import { keys } from "../../core/store/table.js";
import { publish, setEventBridgeClient } from "../../functions/stream/publish.js";
import { setEnv } from "../support/env.js";
import { checkoutRequest, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

type Entry = NonNullable<PutEventsCommandInput["Entries"]>[number];

/**
 * A real EventBridge client whose transport is replaced by a middleware: every PutEvents call is recorded and
 * answered by `answer`, which can fail entries the way the service does (FailedEntryCount + ErrorCode).
 */
function fakeEventBridge(answer: (entries: Entry[], call: number) => PutEventsCommandOutput["Entries"] | Error) {
  const calls: Entry[][] = [];
  const client = new EventBridgeClient({ region: "local", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  client.middlewareStack.add(
    () => async (args) => {
      const entries = ((args.input as PutEventsCommandInput).Entries ?? []) as Entry[];
      calls.push(entries);
      const result = answer(entries, calls.length);
      if (result instanceof Error) throw result;
      const failed = (result ?? []).filter((e) => e.ErrorCode).length;
      return { output: { FailedEntryCount: failed, Entries: result, $metadata: {} }, response: {} } as never;
    },
    { step: "initialize", name: "fake-transport" },
  );
  return { client, calls };
}

const unmarshalled = (record: DynamoDBRecord) =>
  unmarshall(record.dynamodb!.NewImage as never) as Record<string, unknown>;

const ok = (entries: Entry[]) => entries.map((_, i) => ({ EventId: `ev-${i}` }));

let sequence = 0;
function recordOf(item: Record<string, unknown>): DynamoDBRecord {
  sequence++;
  return {
    eventID: `e${sequence}`,
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }) as never,
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: String(sequence).padStart(21, "0"),
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

async function eventItems(orderId: string): Promise<Record<string, unknown>[]> {
  const { doc, tableName } = db();
  const result = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :e)",
      ExpressionAttributeValues: { ":pk": keys.order(orderId).pk, ":e": "EVENT#" },
    }),
  );
  return result.Items ?? [];
}

async function orderRecords(): Promise<DynamoDBRecord[]> {
  const sku = await seedSku({ onHand: 100 });
  const { order } = await Order.checkout(checkoutRequest([sku]), who);
  return (await eventItems(order.orderId)).map(recordOf);
}

/** Three records of one order, one per change: checkout (seq 1-3), payment (seq 4), ready to ship (seq 5). */
async function lifecycleRecords(): Promise<DynamoDBRecord[]> {
  const sku = await seedSku({ onHand: 100 });
  const { order } = await Order.checkout(checkoutRequest([sku]), who);
  await Order.applyExternalEvent(order.orderId, { type: "PAYMENT_SUCCEEDED", externalId: `pay-${order.orderId}` }, who);
  await Order.applyExternalEvent(order.orderId, { type: "READY_TO_SHIP", externalId: `ship-${order.orderId}` }, who);
  return (await eventItems(order.orderId)).map(recordOf);
}

/** The ids of the events a change record holds. */
const eventIdsOf = (record: DynamoDBRecord) =>
  (unmarshalled(record).events as { eventId: string }[]).map((e) => e.eventId);

const context = { functionName: "publisher" } as Context;
const run = (records: DynamoDBRecord[]) => publish({ Records: records } as DynamoDBStreamEvent, context);

beforeAll(async () => {
  await freshTable("publisher");
  setEnv({ ORDERLINE_EVENT_BUS: "test-bus" });
});

describe("stream publisher", () => {
  it("publishes each order event with the contract's source, detail-type and detail, in order", async () => {
    const records = await orderRecords();
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    const entries = fake.calls.flat();
    expect(entries.map((e) => e.DetailType)).toEqual(["ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_REQUESTED"]);
    expect(entries.every((e) => e.Source === "orderline.orders" && e.EventBusName === "test-bus")).toBe(true);
    const detail = JSON.parse(entries[0]!.Detail!);
    expect(Object.keys(detail).sort()).toEqual(
      [
        "actor",
        "createdAt",
        "eventId",
        "fromStatus",
        "order",
        "orderId",
        "payload",
        "requestId",
        "seq",
        "toStatus",
        "type",
      ].sort(),
    );
    expect(Object.keys(detail.order).sort()).toEqual(["currency", "orderId", "status", "totalAmount", "userId"]);
    // the id is the stored event's id: a re-publication carries the same one
    const again = fakeEventBridge(ok);
    setEventBridgeClient(again.client);
    await run(records);
    expect(JSON.parse(again.calls.flat()[0]!.Detail!).eventId).toBe(detail.eventId);
  });

  it("ignores non-event items and modifications", async () => {
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    const [first] = await orderRecords();
    const modify = { ...first!, eventName: "MODIFY" as const };
    const order = recordOf({ pk: "ORDER#x", sk: "ORDER", entity: "Order", orderId: "x" });
    expect((await run([modify, order])).batchItemFailures).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it("sends at most 10 entries per PutEvents call, and each order's events one after the other", async () => {
    const perOrder = await Promise.all(Array.from({ length: 12 }, orderRecords));
    const records = perOrder.flat();
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(fake.calls.map((c) => c.length)).toEqual([10, 2, 10, 2, 10, 2]);
    const sent = fake.calls.flat().map((e) => JSON.parse(e.Detail!) as { orderId: string; seq: number });
    for (const order of perOrder) {
      const orderId = order[0]!.dynamodb!.NewImage!.orderId!.S;
      expect(sent.filter((d) => d.orderId === orderId).map((d) => d.seq)).toEqual([1, 2, 3]);
    }
  });

  it("retries entries PutEvents failed, publishing nothing of that order until they go through", async () => {
    const records = await orderRecords();
    let throttled = false;
    const fake = fakeEventBridge((entries) =>
      entries.map((e, i) => {
        if (e.DetailType === "INVENTORY_RESERVED" && !throttled) {
          throttled = true;
          return { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" };
        }
        return { EventId: `ok-${i}` };
      }),
    );
    setEventBridgeClient(fake.client);
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(fake.calls.map((c) => c.map((e) => e.DetailType))).toEqual([
      ["ORDER_CREATED"],
      ["INVENTORY_RESERVED"],
      ["INVENTORY_RESERVED"],
      ["PAYMENT_REQUESTED"],
    ]);
  });

  it("reports records still failing with every later record of the same order, never sends those, and publishes other orders'", async () => {
    const a = await lifecycleRecords();
    const b = await lifecycleRecords();
    const [failing] = eventIdsOf(a[1]!);
    const fake = fakeEventBridge((entries) =>
      entries.map((e, i) =>
        JSON.parse(e.Detail!).eventId === failing
          ? { ErrorCode: "InternalFailure", ErrorMessage: "boom" }
          : { EventId: `ok-${i}` },
      ),
    );
    setEventBridgeClient(fake.client);
    const response = await run([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [a[1]!.dynamodb!.SequenceNumber, a[2]!.dynamodb!.SequenceNumber].sort(),
    );
    const published = fake.calls.flat().map((e) => JSON.parse(e.Detail!).eventId as string);
    expect(published).not.toContain(eventIdsOf(a[2]!)[0]);
    const ofB = new Set(b.flatMap(eventIdsOf));
    expect(published.filter((id) => ofB.has(id))).toEqual(b.flatMap(eventIdsOf));
  });

  it("fails a poison record alone and still publishes other orders' events", async () => {
    const good = await orderRecords();
    const poison = recordOf({
      pk: "ORDER#bad",
      sk: "EVENT#00000001",
      entity: "OrderEvent",
      orderId: "bad",
      type: "NOT_A_TYPE",
    });
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    const response = await run([poison, ...good]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.dynamodb!.SequenceNumber }]);
    expect(fake.calls.flat()).toHaveLength(3);
  });

  it("holds back the later records of an order behind its poison record, without sending them", async () => {
    const [a0, , a2] = await lifecycleRecords();
    const pk = a0!.dynamodb!.NewImage!.pk!.S!;
    const poison = recordOf({
      pk,
      sk: "EVENT#00000004",
      entity: "OrderEvent",
      orderId: pk.slice(6),
      events: [{ type: "BROKEN" }],
    });
    const later = recordOf(JSON.parse(JSON.stringify(unmarshalled(a2!))));
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    const response = await run([a0!, poison, later]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      poison.dynamodb!.SequenceNumber,
      later.dynamodb!.SequenceNumber,
    ]);
    expect(fake.calls.flat().map((e) => e.DetailType)).toEqual([
      "ORDER_CREATED",
      "INVENTORY_RESERVED",
      "PAYMENT_REQUESTED",
    ]);
  });

  it("publishes an order's events in seq order even when the stream delivers them interleaved", async () => {
    const [a0, a1, a2] = await lifecycleRecords();
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    expect((await run([a2!, a0!, a1!])).batchItemFailures).toEqual([]);
    expect(fake.calls.flat().map((e) => JSON.parse(e.Detail!).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("publishes an event whose detail would exceed the PutEvents limit with its payload cut, never not at all", async () => {
    const [a0] = await orderRecords();
    const item = unmarshalled(a0!);
    const oversized = recordOf({ ...item, payload: { note: "x".repeat(300 * 1024) } });
    const fake = fakeEventBridge(ok);
    setEventBridgeClient(fake.client);
    expect((await run([oversized])).batchItemFailures).toEqual([]);
    const detail = JSON.parse(fake.calls.flat()[0]!.Detail!);
    expect(detail).toMatchObject({
      payload: {},
      payloadTruncated: true,
      eventId: (item.events as { eventId: string }[])[0]!.eventId,
    });
  });

  it("sends the calls of one round side by side while each order's events still go out in seq order", async () => {
    const perOrder = await Promise.all(Array.from({ length: 30 }, lifecycleRecords));
    let inFlight = 0;
    let maxInFlight = 0;
    const client = new EventBridgeClient({ region: "local", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
    const sent: { orderId: string; seq: number }[] = [];
    client.middlewareStack.add(
      () => async (args) => {
        const entries = ((args.input as PutEventsCommandInput).Entries ?? []) as Entry[];
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        sent.push(...entries.map((e) => JSON.parse(e.Detail!) as { orderId: string; seq: number }));
        return {
          output: { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `ok-${i}` })), $metadata: {} },
          response: {},
        } as never;
      },
      { step: "initialize", name: "slow-transport" },
    );
    setEventBridgeClient(client);
    expect((await run(perOrder.flat())).batchItemFailures).toEqual([]);
    expect(maxInFlight).toBeGreaterThan(1);
    for (const records of perOrder) {
      const orderId = String(unmarshalled(records[0]!).orderId);
      expect(sent.filter((d) => d.orderId === orderId).map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it("throws when the whole batch fails, so the mapping bisects and retries it", async () => {
    const records = await orderRecords();
    setEventBridgeClient(fakeEventBridge(() => new Error("network down")).client);
    await expect(run(records)).rejects.toThrow();
  });
});
