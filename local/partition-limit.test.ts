import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createTable, localClient } from "./dynamo.js";
import {
  applySimpleUpdate,
  attributeSize,
  type Item,
  indexWrites,
  itemSize,
  numberSize,
  PartitionLimiter,
  tableSpec,
  writeCharges,
} from "./partition-limit.js";

const S = (s: string): AttributeValue => ({ S: s });
const spec = tableSpec({
  partitionKey: "pk",
  sortKey: "sk",
  globalIndexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk", projection: "KEYS_ONLY" },
  },
});

describe("write units (pure)", () => {
  it("sizes items as DynamoDB does", () => {
    expect(numberSize("12345")).toBe(4);
    expect(numberSize("1000")).toBe(2);
    expect(numberSize("-0.0012")).toBe(2);
    expect(attributeSize({ S: "héllo" })).toBe(6);
    expect(attributeSize({ BOOL: true })).toBe(1);
    expect(attributeSize({ L: [{ S: "ab" }, { NULL: true }] })).toBe(3 + 1 + 2 + 1 + 1);
    expect(attributeSize({ M: { a: { S: "xy" } } })).toBe(3 + 1 + 1 + 2);
    // DynamoDB Local's stream writes a nested empty map as {}.
    expect(attributeSize({} as AttributeValue)).toBe(3);
    expect(attributeSize({ B: "AAEC" } as unknown as AttributeValue)).toBe(3);
    expect(itemSize({ pk: S("A"), n: { N: "7" } })).toBe(2 + 1 + 1 + 2);
  });

  it("derives index puts and deletes from the images", () => {
    const before: Item = { pk: S("O#1"), sk: S("O"), gsi2pk: S("Q#1"), gsi2sk: S("t"), status: S("PENDING") };
    const after: Item = { pk: S("O#1"), sk: S("O"), status: S("PAID") };
    // leaves gsi2 (KEYS_ONLY); was never in gsi1
    expect(indexWrites(spec, before, after)).toEqual([
      {
        index: "gsi2",
        partitionKey: "Q#1",
        op: "delete",
        bytes: itemSize({ pk: S("O#1"), sk: S("O"), gsi2pk: S("Q#1"), gsi2sk: S("t") }),
      },
    ]);
    // a non-key change under KEYS_ONLY writes nothing; under ALL (gsi1) it rewrites the entry
    const inBoth: Item = { ...before, gsi1pk: S("U#1"), gsi1sk: S("1") };
    expect(
      indexWrites(spec, inBoth, { ...inBoth, status: S("PAID") }).map((w) => `${w.index}:${w.op}:${w.partitionKey}`),
    ).toEqual(["gsi1:put:U#1"]);
    // a key change is a delete plus a put (and gsi1, projecting ALL, sees an attribute change)
    expect(
      indexWrites(spec, inBoth, { ...inBoth, gsi2pk: S("Q#2") }).map((w) => `${w.index}:${w.op}:${w.partitionKey}`),
    ).toEqual(["gsi1:put:U#1", "gsi2:delete:Q#1", "gsi2:put:Q#2"]);
    const charges = writeCharges(spec, { before: undefined, after: inBoth, transactional: true });
    expect(charges).toEqual([
      { index: "table", partitionKey: "O#1", units: 2 },
      { index: "gsi1", partitionKey: "U#1", units: 1 },
      { index: "gsi2", partitionKey: "Q#1", units: 1 },
    ]);
  });
});

describe("simple update expressions applied in process", () => {
  const key: Item = { pk: S("SKU#1"), sk: S("SKU") };
  const sku: Item = { ...key, reserved: { N: "3" }, available: { N: "7" }, title: S("book") };
  it("applies SET, arithmetic, ADD and REMOVE on top-level attributes", () => {
    expect(
      applySimpleUpdate(
        sku,
        key,
        "SET reserved = reserved + :q, #a = available - :q, note = :n ADD stockVersion :one REMOVE title",
        { "#a": "available" },
        {
          ":q": { N: "2" },
          ":n": S("x"),
          ":one": { N: "1" },
        },
      ),
    ).toEqual({ ...key, reserved: { N: "5" }, available: { N: "5" }, note: S("x"), stockVersion: { N: "1" } });
    expect(applySimpleUpdate(undefined, key, "SET a = :a", {}, { ":a": S("new") })).toEqual({ ...key, a: S("new") });
  });
  it("leaves everything else to DynamoDB Local", () => {
    expect(applySimpleUpdate(sku, key, "SET a = if_not_exists(a, :z)", {}, { ":z": { N: "0" } })).toBeUndefined();
    expect(applySimpleUpdate(sku, key, "SET m.x = :z", {}, { ":z": { N: "0" } })).toBeUndefined();
    expect(applySimpleUpdate(sku, key, "SET a = missing + :z", {}, { ":z": { N: "1" } })).toBeUndefined();
    expect(applySimpleUpdate(sku, key, "SET a = reserved + :z", {}, { ":z": { N: "1.5" } })).toBeUndefined();
  });
});

describe("the partition limiter on DynamoDB Local", () => {
  const WCU = 10;
  let endpoint: string;
  let tableName: string;
  let clock = 1_000_000;
  let limiter: PartitionLimiter;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let plain: DynamoDBClient;

  beforeAll(async () => {
    endpoint = inject("dynamoEndpoint");
    tableName = `limit-${ulid().toLowerCase()}`;
    await createTable(endpoint, tableName);
    plain = localClient(endpoint);
  });

  beforeEach(() => {
    clock += 10_000; // every test starts on empty windows
    client = new DynamoDBClient({
      endpoint,
      region: "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    doc = DynamoDBDocumentClient.from(client);
    limiter = new PartitionLimiter({ wcu: WCU, reader: localClient(endpoint), now: () => clock });
    limiter.install(client);
    return async () => {
      await limiter.close();
      client.destroy();
    };
  });

  afterAll(() => plain.destroy());

  const exists = async (pk: string, sk: string) =>
    (
      await plain.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: S(pk), sk: S(sk) }, ConsistentRead: true }),
      )
    ).Item !== undefined;
  const put = (item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: tableName, Item: item }));
  const unique = (prefix: string) => `${prefix}#${ulid()}`;

  it("throttles a hot key past n write units a second, not the other keys, and writes nothing when throttled", async () => {
    const hot = unique("HOT");
    for (let i = 0; i < WCU; i++) await put({ pk: hot, sk: `s${i}` });
    const error = await put({ pk: hot, sk: "over" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as Error).name).toBe("ProvisionedThroughputExceededException");
    expect((error as ProvisionedThroughputExceededException).ThrottlingReasons?.[0]?.reason).toBe(
      "TableWriteKeyRangeThroughputExceeded",
    );
    expect(await exists(hot, "over")).toBe(false);
    expect(await exists(hot, `s${WCU - 1}`)).toBe(true);
    // other keys are untouched by the hot one
    for (let i = 0; i < 3; i++) await put({ pk: unique("COLD"), sk: "x" });
    // a second later the key takes writes again
    clock += 1001;
    await put({ pk: hot, sk: "later" });
    expect(await exists(hot, "later")).toBe(true);
    expect(limiter.stats().throttled).toBe(1);
  });

  it("charges per started KB of the larger image", async () => {
    const key = unique("BIG");
    const big = "x".repeat(2500); // 3 KB
    for (let i = 0; i < 3; i++) await put({ pk: key, sk: `s${i}`, big }); // 9 units
    await expect(put({ pk: key, sk: "s3", big })).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    clock += 1001;
    // an update that shrinks a 3 KB item still costs 3 units (the larger of before and after)
    for (let i = 0; i < 3; i++)
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: S(key), sk: S(`s${i}`) },
          UpdateExpression: "REMOVE big",
        }),
      );
    const small = () =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: S(key), sk: S("s0") },
          UpdateExpression: "SET n = :one",
          ExpressionAttributeValues: { ":one": { N: "1" } },
        }),
      );
    await small(); // 10 units
    await expect(small()).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it("throttles an index partition key written by items of many table keys", async () => {
    const hotIndexKey = unique("LIST");
    for (let i = 0; i < WCU; i++) await put({ pk: unique("ITEM"), sk: "I", gsi1pk: hotIndexKey, gsi1sk: String(i) });
    const pk = unique("ITEM");
    const error = await put({ pk, sk: "I", gsi1pk: hotIndexKey, gsi1sk: "over" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as ProvisionedThroughputExceededException).ThrottlingReasons?.[0]).toMatchObject({
      reason: "IndexWriteKeyRangeThroughputExceeded",
    });
    expect(await exists(pk, "I")).toBe(false);
    // the same items without the index key pass
    await put({ pk, sk: "I" });
    // an update that moves an item onto the hot index key is throttled too (evaluated as DynamoDB would apply it)
    const move = new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: S(pk), sk: S("I") },
      UpdateExpression: "SET #k = :k, gsi1sk = :s",
      ExpressionAttributeNames: { "#k": "gsi1pk" },
      ExpressionAttributeValues: { ":k": S(hotIndexKey), ":s": S("moved") },
    });
    await expect(client.send(move)).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(
      (
        await plain.send(
          new GetItemCommand({ TableName: tableName, Key: { pk: S(pk), sk: S("I") }, ConsistentRead: true }),
        )
      ).Item?.gsi1pk,
    ).toBeUndefined();
  });

  it("charges transactional writes 2x, condition checks like a write, and cancels only the throttled actions", async () => {
    const hot = unique("TX");
    const tx = (sk: string, other?: string) =>
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: { pk: hot, sk } } },
            ...(other ? [{ Put: { TableName: tableName, Item: { pk: other, sk: "x" } } }] : []),
          ],
        }),
      );
    for (let i = 0; i < WCU / 2; i++) await tx(`t${i}`); // 2 units each
    const cold = unique("COLD");
    const error = await tx("over", cold).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      "ThrottlingError",
      "None",
    ]);
    expect(await exists(hot, "over")).toBe(false);
    expect(await exists(cold, "x")).toBe(false);

    clock += 1001;
    // a ConditionCheck on the hot key costs 2 units too: 4 checks + 1 write = 10
    const check = {
      ConditionCheck: {
        TableName: tableName,
        Key: { pk: S(hot), sk: S("t0") },
        ConditionExpression: "attribute_exists(pk)",
      },
    };
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [check, { Put: { TableName: tableName, Item: { pk: S(unique("A")), sk: S("x") } } }],
      }),
    );
    for (let i = 0; i < 3; i++)
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ...check, ConditionCheck: { ...check.ConditionCheck, Key: { pk: S(hot), sk: S(`t${i + 1}`) } } },
          ],
        }),
      );
    await tx("last");
    const after = await tx("one-too-many").catch((e: unknown) => e);
    expect((after as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      "ThrottlingError",
    ]);
  });

  it("sizes a transactional update by DynamoDB's own evaluation and throttles the index key it moves to", async () => {
    const queue = unique("QUEUE");
    // 9 items already queued under one index key (9 units there)
    const ids = Array.from({ length: WCU - 1 }, () => unique("ORD"));
    for (const id of ids)
      await client.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: S(id), sk: S("O"), gsi2pk: S(queue), gsi2sk: S(id) } }),
      );
    const id = unique("ORD");
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: S(id), sk: S("O"), n: { N: "1" } } }));
    // the next one enters the queue by an update with arithmetic: 10 units, admitted; the one after is over
    const enqueue = (pk: string) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName,
                Key: { pk: S(pk), sk: S("O") },
                UpdateExpression: "SET n = n + :one, gsi2pk = :q, gsi2sk = :pk",
                ConditionExpression: "attribute_exists(pk)",
                ExpressionAttributeValues: { ":one": { N: "1" }, ":q": S(queue), ":pk": S(pk) },
              },
            },
          ],
        }),
      );
    await enqueue(id);
    const other = unique("ORD");
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: S(other), sk: S("O"), n: { N: "1" } } }));
    const error = await enqueue(other).catch((e: unknown) => e);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      "ThrottlingError",
    ]);
    const item = (
      await plain.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: S(other), sk: S("O") }, ConsistentRead: true }),
      )
    ).Item;
    expect(item).toEqual({ pk: S(other), sk: S("O"), n: { N: "1" } });
  });

  it("sizes complex updates by DynamoDB Local's own evaluation, and a failed condition as a failed write", async () => {
    const pk = unique("LOG");
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: S(pk), sk: S("L"), entries: { L: [] } } }),
    );
    const big = S("y".repeat(1500));
    const append = (condition?: string) =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: S(pk), sk: S("L") },
          UpdateExpression: "SET entries = list_append(entries, :e), seen = if_not_exists(seen, :zero)",
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeValues: { ":e": { L: [big] }, ":zero": { N: "0" } },
        }),
      );
    await append(); // 1 (put) + 2 (after: ~1.5 KB) = 3
    await append(); // after ~3 KB: 3 units -> 6
    // a failed condition is charged by the item before (3 KB: 3 units) and fails as DynamoDB fails it -> 9
    await expect(append("attribute_not_exists(pk)")).rejects.toThrow(/conditional/i);
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: S(pk), sk: S("tiny") } })); // 10
    await expect(
      client.send(new PutItemCommand({ TableName: tableName, Item: { pk: S(pk), sk: S("tiny2") } })),
    ).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    const item = (
      await plain.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: S(pk), sk: S("L") }, ConsistentRead: true }),
      )
    ).Item!;
    expect(item.entries?.L).toHaveLength(2);
  });

  it("lets the SDK retry a throttled single write", async () => {
    const retrying = new DynamoDBClient({
      endpoint,
      region: "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 3,
    });
    limiter.install(retrying);
    const hot = unique("RETRY");
    for (let i = 0; i < WCU; i++) await put({ pk: hot, sk: `s${i}` });
    // the window clears while the SDK backs off
    const advanceClock = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        clock += 1001;
        throw error;
      }
    };
    retrying.middlewareStack.addRelativeTo(advanceClock as never, {
      relation: "before",
      toMiddleware: "orderlinePartitionLimit",
      name: "advanceClockOnThrottle",
    });
    const out = await retrying.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: S(hot), sk: S("retried") } }),
    );
    expect(out.$metadata.attempts).toBeGreaterThan(1);
    expect(await exists(hot, "retried")).toBe(true);
    retrying.destroy();
  });
});

describe("the local runtime with ORDERLINE_LOCAL_PARTITION_WCU", () => {
  it("puts the limit on the handlers' client, throttles a hot SKU's checkouts, and takes it off at stop", async () => {
    const { db, setDb } = await import("../core/store/client.js");
    const { startLocalRuntime } = await import("./runtime.js");
    const { client: http } = await import("../test/support/runtime.js");
    setDb(undefined);
    process.env.ORDERLINE_LOCAL_PARTITION_WCU = "2";
    const lines: string[] = [];
    const runtime = await startLocalRuntime({
      port: 0,
      dynamoEndpoint: inject("dynamoEndpoint"),
      tableName: `e2e-${ulid().toLowerCase()}`,
      log: (l) => lines.push(l),
    });
    delete process.env.ORDERLINE_LOCAL_PARTITION_WCU;
    try {
      expect(runtime.partitionLimit?.wcu).toBe(2);
      expect(lines.filter((l) => l.includes("partition limit on"))).toHaveLength(1);
      const handlersClient = db().client;
      expect(handlersClient.middlewareStack.identify().some((m) => m.startsWith("orderlinePartitionLimit"))).toBe(true);
      const call = http(runtime.url);
      expect(
        (await call("PUT", "/internal/offers/hot", { offerId: "off-hot", unitPrice: 1000, currency: "KRW" })).status,
      ).toBe(200);
      expect((await call("PUT", "/internal/inventory/hot", { onHand: 100 })).status).toBe(200);
      const statuses = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const response = await call("POST", "/api/v1/orders", {
            userId: `u-${i}`,
            idempotencyKey: `k-${ulid()}`,
            items: [{ skuId: "hot", qty: 1, offerId: "off-hot", unitPrice: 1000 }],
            currency: "KRW",
            shippingAddressId: "addr-1",
            paymentMethod: "CARD",
          });
          return response.status;
        }),
      );
      expect(statuses).toContain(201);
      expect(runtime.partitionLimit!.stats().throttled).toBeGreaterThan(0);
      await runtime.stop();
      expect(handlersClient.middlewareStack.identify().some((m) => m.startsWith("orderlinePartitionLimit"))).toBe(
        false,
      );
    } finally {
      await runtime.stop();
      setDb(undefined);
    }
  });
});
