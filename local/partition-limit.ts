/**
 * DynamoDB's per-partition-key write limit, emulated on the local runtime (`ORDERLINE_LOCAL_PARTITION_WCU=<n>`).
 *
 * In AWS every partition key of a table and of each GSI takes at most 1,000 write units a second; a key over it
 * is throttled, and a throttled GSI holds back the table write that would feed it. DynamoDB Local has no such
 * limit, so hot keys never show up on a laptop. This module is an AWS SDK v3 middleware for the handlers'
 * DynamoDBClient that charges every write to the partition keys it touches and throttles a request that would
 * take any of them over `n` write units within the last second (a sliding one-second window per key).
 *
 * Write units, as DynamoDB bills them (see "Item sizes" and "Global secondary indexes: provisioned throughput"):
 * - item size = sum of the UTF-8 lengths of the attribute names + value sizes (strings: UTF-8 bytes; numbers: about
 *   1 byte per 2 significant digits + 1; booleans/null: 1; lists/maps: 3 + 1 per element + contents; binary: bytes),
 *   one unit per started KB, at least 1;
 * - Put/Update charge the larger of the item before and after, Delete the item before; in TransactWriteItems every
 *   write costs 2x and a ConditionCheck costs like a transactional write of the item it checks;
 * - GSIs, at the standard rate (1 unit per started KB of the index entry = table key + index key + projected
 *   attributes): an entry is put when the item enters the index or a projected attribute changes, deleted when the
 *   item leaves it; a change of the index key is a delete under the old key plus a put under the new one.
 *
 * How a request is sized (exact for every update expression, cheap for the common ones):
 * - the item before is read first with a strongly consistent GetItem/BatchGetItem on a plain client;
 * - the item after an UpdateItem (or an Update in a transaction) whose expression only SETs/REMOVEs/ADDs top-level
 *   attributes to values, other attributes or integer sums/differences is computed here (`applySimpleUpdate`);
 *   any other expression (functions, nested paths, sets, decimals) is applied by DynamoDB Local itself: the item
 *   before is copied to a shadow table (`<table>.partition-limit-shadow`, same key schema, under a unique key) and
 *   the same update (expression, names, values, condition) is applied there with ReturnValues ALL_NEW. An update
 *   whose condition fails there is charged as a failed conditional write (the size of the item before, no index
 *   writes), as DynamoDB charges one (conditions are not evaluated on the in-process path: charged as applied);
 * - a request is admitted, and charged at once, only if every key it touches stays within `n` units in the window;
 *   a key whose window is empty admits even a request larger than `n` (else such a request could never pass).
 *   A throttled request is never sent, so it writes nothing and is charged nothing.
 * Approximations: a concurrent write landing between the read and the write makes the size slightly off; a request
 * that then fails its condition (or a cancelled transaction) stays charged as attempted.
 *
 * Throttled PutItem/UpdateItem/DeleteItem/BatchWriteItem throw the SDK's ProvisionedThroughputExceededException
 * (with ThrottlingReasons `TableWriteKeyRangeThroughputExceeded` / `IndexWriteKeyRangeThroughputExceeded`); the
 * middleware sits after the SDK's retry middleware, so the client's own retries re-send such a write. A throttled
 * TransactWriteItems throws TransactionCanceledException whose CancellationReasons say `ThrottlingError` for the
 * actions on a key over the limit and `None` for the others (not retried by the SDK, as in AWS).
 * A BatchWriteItem is throttled as a whole (AWS would return the throttled part as UnprocessedItems).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type CancellationReason,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  type KeysAndAttributes,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { tableDefinition } from "../core/store/table.js";

export type Item = Record<string, AttributeValue>;

// ---------------------------------------------------------------------------------------------------------------
// Sizes and write units (pure; also used by the stream-measured capacity model in bench/capacity-model.ts)

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** Size of a DynamoDB number: leading/trailing zeros trimmed, 1 byte per 2 significant digits, + 1. */
export function numberSize(text: string): number {
  const mantissa = text.replace(/^[-+]/, "").split(/[eE]/)[0] ?? "";
  const digits = mantissa.replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length || 1;
  return Math.ceil(digits / 2) + 1;
}

const binarySize = (value: unknown) =>
  typeof value === "string" ? Buffer.from(value, "base64").length : ((value as Uint8Array | undefined)?.length ?? 0);

/**
 * Size of one attribute value. Accepts the SDK's shape and the Lambda/JSON shape (binary as base64). An empty
 * object counts as an empty map: DynamoDB Local's stream encodes a nested empty map as `{}`.
 */
export function attributeSize(value: AttributeValue | Record<string, unknown>): number {
  const v = value as Record<string, unknown>;
  if (typeof v.S === "string") return utf8(v.S);
  if (typeof v.N === "string") return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (Array.isArray(v.SS)) return (v.SS as string[]).reduce((sum, s) => sum + utf8(s), 0);
  if (Array.isArray(v.NS)) return (v.NS as string[]).reduce((sum, n) => sum + numberSize(n), 0);
  if (Array.isArray(v.BS)) return (v.BS as unknown[]).reduce<number>((sum, b) => sum + binarySize(b), 0);
  if (Array.isArray(v.L)) return 3 + (v.L as AttributeValue[]).reduce((sum, e) => sum + 1 + attributeSize(e), 0);
  if (v.M && typeof v.M === "object")
    return 3 + Object.entries(v.M as Item).reduce((sum, [name, e]) => sum + 1 + utf8(name) + attributeSize(e), 0);
  return 3; // `{}`: an empty map as DynamoDB Local's stream writes it
}

/** Item size in bytes (0 for no item). */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) if (value !== undefined) size += utf8(name) + attributeSize(value);
  return size;
}

/** Standard write units of `bytes`: 1 per started KB, at least 1. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

// ---------------------------------------------------------------------------------------------------------------
// The table's layout, read defensively from tableDefinition (projections may or may not be declared)

export type Projection = { type: "ALL" } | { type: "KEYS_ONLY" } | { type: "INCLUDE"; attributes: string[] };

export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey: string | undefined;
  projection: Projection;
}

export interface TableSpec {
  partitionKey: string;
  sortKey: string | undefined;
  indexes: IndexSpec[];
}

function readProjection(raw: unknown): Projection {
  if (raw === "KEYS_ONLY" || (raw as { type?: string } | undefined)?.type === "KEYS_ONLY") return { type: "KEYS_ONLY" };
  if (raw && typeof raw === "object") {
    const r = raw as Record<string, unknown>;
    const list = r.include ?? r.attributes ?? r.nonKeyAttributes ?? r.NonKeyAttributes;
    if (Array.isArray(list)) return { type: "INCLUDE", attributes: list.map(String) };
  }
  return { type: "ALL" };
}

/** The table's key schema and GSIs (name, keys, projection; projection ALL when not declared). */
export function tableSpec(definition: unknown = tableDefinition): TableSpec {
  const def = definition as {
    partitionKey: string;
    sortKey?: string;
    globalIndexes?: Record<string, Record<string, unknown>>;
  };
  return {
    partitionKey: def.partitionKey,
    sortKey: def.sortKey,
    indexes: Object.entries(def.globalIndexes ?? {}).map(([name, index]) => ({
      name,
      partitionKey: String(index.partitionKey),
      sortKey: index.sortKey === undefined ? undefined : String(index.sortKey),
      projection: readProjection(index.projection ?? index.Projection),
    })),
  };
}

/** The entry `item` has in `index`, or undefined when it is not in the index (a key attribute is missing). */
export function indexEntry(spec: TableSpec, index: IndexSpec, item: Item | undefined): Item | undefined {
  if (!item || item[index.partitionKey] === undefined) return undefined;
  if (index.sortKey !== undefined && item[index.sortKey] === undefined) return undefined;
  if (index.projection.type === "ALL") return item;
  const names = [spec.partitionKey, spec.sortKey, index.partitionKey, index.sortKey];
  if (index.projection.type === "INCLUDE") names.push(...index.projection.attributes);
  const entry: Item = {};
  for (const name of names) if (name !== undefined && item[name] !== undefined) entry[name] = item[name]!;
  return entry;
}

/** A stable text form of a value (map keys sorted, binary as base64), to compare images and name keys. */
export function canonical(value: unknown): string {
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    // `{}` (DynamoDB Local's empty nested map) and `{ M: {} }` are the same value.
    if (entries.length === 0) return '{"M":{}}';
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A partition key value as text (the string itself for S keys). */
export function keyText(value: AttributeValue | undefined): string {
  if (!value) return "";
  const v = value as unknown as Record<string, unknown>;
  if (typeof v.S === "string") return v.S;
  if (typeof v.N === "string") return v.N;
  return canonical(value);
}

export interface IndexWrite {
  index: string;
  /** The index partition key value written under. */
  partitionKey: string;
  op: "put" | "delete";
  /** Size of the entry written (a put in place: the larger of the entry before and after). */
  bytes: number;
}

/** The index entries one write puts and deletes, from the item before and after it (either may be absent). */
export function indexWrites(spec: TableSpec, before: Item | undefined, after: Item | undefined): IndexWrite[] {
  const writes: IndexWrite[] = [];
  for (const index of spec.indexes) {
    const was = indexEntry(spec, index, before);
    const is = indexEntry(spec, index, after);
    if (!was && !is) continue;
    const wasKey = was && canonical([was[index.partitionKey], index.sortKey ? was[index.sortKey] : null]);
    const isKey = is && canonical([is[index.partitionKey], index.sortKey ? is[index.sortKey] : null]);
    if (was && is && wasKey === isKey) {
      if (canonical(was) !== canonical(is))
        writes.push({
          index: index.name,
          partitionKey: keyText(is[index.partitionKey]),
          op: "put",
          bytes: Math.max(itemSize(was), itemSize(is)),
        });
      continue;
    }
    if (was)
      writes.push({
        index: index.name,
        partitionKey: keyText(was[index.partitionKey]),
        op: "delete",
        bytes: itemSize(was),
      });
    if (is)
      writes.push({ index: index.name, partitionKey: keyText(is[index.partitionKey]), op: "put", bytes: itemSize(is) });
  }
  return writes;
}

/** `"table"` for the table itself, else the GSI name. */
export const TABLE = "table";

export interface Charge {
  index: string;
  partitionKey: string;
  units: number;
}

export interface WriteSizing {
  /** The item before the write (undefined: there was none). */
  before: Item | undefined;
  /** The item after the write (undefined: deleted, or no change for a condition check). */
  after: Item | undefined;
  transactional: boolean;
  /** A ConditionCheck, or a write whose condition fails: charged on the table key only, by the item before. */
  kind?: "write" | "conditionCheck" | "failedWrite";
  /** The table key, when there is no item before or after (a delete of nothing). */
  partitionKey?: string;
}

/** The write units one write takes from each partition key it touches (table and indexes). */
export function writeCharges(spec: TableSpec, write: WriteSizing): Charge[] {
  const factor = write.transactional ? 2 : 1;
  const pk = write.partitionKey ?? keyText((write.after ?? write.before)?.[spec.partitionKey]);
  const kind = write.kind ?? "write";
  if (kind !== "write")
    return [
      {
        index: TABLE,
        partitionKey: pk,
        units: writeUnits(itemSize(write.before)) * (kind === "conditionCheck" ? 2 : factor),
      },
    ];
  const charges: Charge[] = [
    {
      index: TABLE,
      partitionKey: pk,
      units: writeUnits(Math.max(itemSize(write.before), itemSize(write.after))) * factor,
    },
  ];
  for (const w of indexWrites(spec, write.before, write.after))
    charges.push({ index: w.index, partitionKey: w.partitionKey, units: writeUnits(w.bytes) });
  return charges;
}

// ---------------------------------------------------------------------------------------------------------------
// Update expressions simple enough to apply here (the hot paths: counters, status and index key changes)

const isInteger = (v: AttributeValue | undefined): v is { N: string } =>
  typeof (v as { N?: unknown } | undefined)?.N === "string" && /^-?\d+$/.test((v as { N: string }).N);

/**
 * The item after `expression`, when it only uses `SET a = operand [+|- operand]`, `REMOVE a`, `ADD a :integer` on
 * top-level attributes (operands: `:value` or an attribute); undefined for anything else (or an operand that is
 * missing or not an integer where arithmetic needs one), which then goes to DynamoDB Local's own evaluation.
 */
export function applySimpleUpdate(
  before: Item | undefined,
  key: Item,
  expression: string,
  names: Record<string, string> = {},
  values: Item = {},
): Item | undefined {
  if (/[()[\].]/.test(expression)) return undefined;
  const clauses = [...expression.matchAll(/\b(SET|REMOVE|ADD|DELETE)\b/gi)];
  if (clauses.length === 0) return undefined;
  const source: Item = before ?? key;
  const after: Item = { ...source };
  const name = (token: string) =>
    token.startsWith("#") ? names[token] : /^[A-Za-z_][\w]*$/.test(token) ? token : undefined;
  const operand = (token: string): AttributeValue | undefined => {
    if (token.startsWith(":")) return values[token];
    const n = name(token);
    return n === undefined ? undefined : source[n];
  };
  for (let c = 0; c < clauses.length; c++) {
    const verb = clauses[c]![1]!.toUpperCase();
    const body = expression.slice(
      clauses[c]!.index! + clauses[c]![0].length,
      clauses[c + 1]?.index ?? expression.length,
    );
    for (const action of body.split(",").map((a) => a.trim())) {
      if (action === "") return undefined;
      if (verb === "REMOVE") {
        const n = name(action);
        if (n === undefined) return undefined;
        delete after[n];
        continue;
      }
      if (verb === "ADD") {
        const m = /^(\S+)\s+(:\w+)$/.exec(action);
        const n = m && name(m[1]!);
        const add = m ? values[m[2]!] : undefined;
        const current = n === undefined || n === null ? undefined : source[n];
        if (!n || !isInteger(add) || (current !== undefined && !isInteger(current))) return undefined;
        after[n] = { N: (BigInt(current ? current.N : "0") + BigInt(add.N)).toString() };
        continue;
      }
      if (verb !== "SET") return undefined;
      const m = /^(\S+)\s*=\s*(\S+)(?:\s*([+-])\s*(\S+))?$/.exec(action);
      const n = m && name(m[1]!);
      if (!m || !n) return undefined;
      const left = operand(m[2]!);
      if (left === undefined) return undefined;
      if (m[3] === undefined) {
        after[n] = left;
        continue;
      }
      const right = operand(m[4]!);
      if (!isInteger(left) || !isInteger(right)) return undefined;
      after[n] = { N: (m[3] === "+" ? BigInt(left.N) + BigInt(right.N) : BigInt(left.N) - BigInt(right.N)).toString() };
    }
  }
  return after;
}

// ---------------------------------------------------------------------------------------------------------------
// The limiter

export interface PartitionLimitOptions {
  /** Write units per partition key per second. */
  wcu: number;
  /** A plain client on the same DynamoDB (no limiter on it): reads items before, evaluates updates in the shadow. */
  reader: DynamoDBClient;
  spec?: TableSpec;
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
  /** Region and account for the ARNs in ThrottlingReasons. */
  arnPrefix?: string;
}

export interface PartitionLimitStats {
  admitted: number;
  throttled: number;
  /** Throttled requests per `index partitionKey`. */
  throttledKeys: Map<string, number>;
}

interface Window {
  /** Admitted charges in the last second, oldest first. */
  entries: { at: number; units: number }[];
  sum: number;
}

interface PlannedAction {
  table: string;
  charges: Charge[];
}

interface Plan {
  transactional: boolean;
  actions: PlannedAction[];
}

const MIDDLEWARE_NAME = "orderlinePartitionLimit";
const WINDOW_MS = 1000;
const SHADOW_SUFFIX = ".partition-limit-shadow";

function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? "";
}

/** Key attributes of `item`. */
function keyOf(spec: TableSpec, item: Item): Item {
  const key: Item = { [spec.partitionKey]: item[spec.partitionKey]! };
  if (spec.sortKey !== undefined && item[spec.sortKey] !== undefined) key[spec.sortKey] = item[spec.sortKey]!;
  return key;
}

interface UpdateInput {
  TableName?: string;
  Key?: Item;
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

export class PartitionLimiter {
  readonly wcu: number;
  private readonly spec: TableSpec;
  private readonly reader: DynamoDBClient;
  private readonly now: () => number;
  private readonly arnPrefix: string;
  private readonly windows = new Map<string, Window>();
  private readonly shadows = new Map<string, Promise<void>>();
  private readonly clients = new Set<DynamoDBClient>();
  private shadowSeq = 0;
  private readonly counters = { admitted: 0, throttled: 0, throttledKeys: new Map<string, number>() };

  constructor(options: PartitionLimitOptions) {
    if (!(options.wcu > 0))
      throw new Error(`the partition limit must be a positive number of write units, got ${options.wcu}`);
    this.wcu = options.wcu;
    this.spec = options.spec ?? tableSpec();
    this.reader = options.reader;
    this.now = options.now ?? Date.now;
    this.arnPrefix = options.arnPrefix ?? "arn:aws:dynamodb:local:000000000000";
  }

  stats(): PartitionLimitStats {
    return {
      admitted: this.counters.admitted,
      throttled: this.counters.throttled,
      throttledKeys: new Map(this.counters.throttledKeys),
    };
  }

  /** Adds the limit to `client` (and every DynamoDBDocumentClient built on it: they share its middleware stack). */
  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const plan = await this.plan(context.commandName ?? "", args.input as Record<string, unknown>);
        if (plan) this.admit(plan);
        return next(args);
      },
      // After the retry middleware (priority high in the same step): a throttled single write is retried by the SDK.
      { step: "finalizeRequest", priority: "low", name: MIDDLEWARE_NAME, override: true },
    );
    this.clients.add(client);
  }

  /** Removes the limit from the clients it was installed on, deletes the shadow tables and frees the reader. */
  async close(): Promise<void> {
    for (const client of this.clients) client.middlewareStack.remove(MIDDLEWARE_NAME);
    this.clients.clear();
    const tables = [...this.shadows.keys()];
    this.shadows.clear();
    await Promise.allSettled(
      tables.map((table) => this.reader.send(new DeleteTableCommand({ TableName: table + SHADOW_SUFFIX }))),
    );
    this.reader.destroy();
  }

  // -- sizing ---------------------------------------------------------------------------------------------------

  private async plan(command: string, input: Record<string, unknown>): Promise<Plan | undefined> {
    const table = String(input.TableName ?? "");
    switch (command) {
      case "PutItemCommand": {
        const item = input.Item as Item;
        const [before] = await this.read(table, [keyOf(this.spec, item)]);
        return {
          transactional: false,
          actions: [{ table, charges: writeCharges(this.spec, { before, after: item, transactional: false }) }],
        };
      }
      case "DeleteItemCommand": {
        const key = input.Key as Item;
        const [before] = await this.read(table, [key]);
        return {
          transactional: false,
          actions: [
            {
              table,
              charges: writeCharges(this.spec, {
                before,
                after: undefined,
                transactional: false,
                partitionKey: keyText(key[this.spec.partitionKey]),
              }),
            },
          ],
        };
      }
      case "UpdateItemCommand": {
        const update = input as UpdateInput;
        const [before] = await this.read(table, [update.Key!]);
        return {
          transactional: false,
          actions: [{ table, charges: await this.updateCharges(table, update, before, false) }],
        };
      }
      case "TransactWriteItemsCommand":
        return this.planTransaction((input.TransactItems ?? []) as TransactWriteItem[]);
      case "BatchWriteItemCommand":
        return this.planBatch((input.RequestItems ?? {}) as Record<string, WriteRequest[]>);
      default:
        return undefined;
    }
  }

  private async updateCharges(
    table: string,
    update: UpdateInput,
    before: Item | undefined,
    transactional: boolean,
  ): Promise<Charge[]> {
    const partitionKey = keyText(update.Key![this.spec.partitionKey]);
    const after = await this.evaluateUpdate(table, update, before);
    if (after === undefined)
      return writeCharges(this.spec, { before, after: undefined, transactional, kind: "failedWrite", partitionKey });
    return writeCharges(this.spec, { before, after, transactional, partitionKey });
  }

  private async planTransaction(items: TransactWriteItem[]): Promise<Plan> {
    const targets = items.map((action) => {
      if (action.Put) return { table: action.Put.TableName!, key: keyOf(this.spec, action.Put.Item!) };
      if (action.Update) return { table: action.Update.TableName!, key: action.Update.Key! };
      if (action.Delete) return { table: action.Delete.TableName!, key: action.Delete.Key! };
      return { table: action.ConditionCheck!.TableName!, key: action.ConditionCheck!.Key! };
    });
    const byTable = new Map<string, number[]>();
    for (const [i, t] of targets.entries()) byTable.set(t.table, [...(byTable.get(t.table) ?? []), i]);
    const befores: (Item | undefined)[] = new Array(items.length);
    await Promise.all(
      [...byTable].map(async ([table, indexes]) => {
        const found = await this.read(
          table,
          indexes.map((i) => targets[i]!.key),
        );
        for (const [j, i] of indexes.entries()) befores[i] = found[j];
      }),
    );
    const actions = await Promise.all(
      items.map(async (action, i): Promise<PlannedAction> => {
        const before = befores[i];
        const { table } = targets[i]!;
        const partitionKey = keyText(targets[i]!.key[this.spec.partitionKey]);
        if (action.Put)
          return {
            table,
            charges: writeCharges(this.spec, { before, after: action.Put.Item, transactional: true, partitionKey }),
          };
        if (action.Delete)
          return {
            table,
            charges: writeCharges(this.spec, { before, after: undefined, transactional: true, partitionKey }),
          };
        if (action.Update) return { table, charges: await this.updateCharges(table, action.Update, before, true) };
        return {
          table,
          charges: writeCharges(this.spec, {
            before,
            after: undefined,
            transactional: true,
            kind: "conditionCheck",
            partitionKey,
          }),
        };
      }),
    );
    return { transactional: true, actions };
  }

  private async planBatch(requests: Record<string, WriteRequest[]>): Promise<Plan> {
    const actions: PlannedAction[] = [];
    for (const [table, writes] of Object.entries(requests)) {
      const keys = writes.map((w) => (w.PutRequest ? keyOf(this.spec, w.PutRequest.Item!) : w.DeleteRequest!.Key!));
      const befores = await this.read(table, keys);
      for (const [i, w] of writes.entries())
        actions.push({
          table,
          charges: writeCharges(this.spec, {
            before: befores[i],
            after: w.PutRequest?.Item,
            transactional: false,
            partitionKey: keyText(keys[i]![this.spec.partitionKey]),
          }),
        });
    }
    return { transactional: false, actions };
  }

  /** The items at `keys` now (strongly consistent), index-aligned. */
  private async read(table: string, keys: Item[]): Promise<(Item | undefined)[]> {
    if (keys.length === 1) {
      const out = await this.reader.send(new GetItemCommand({ TableName: table, Key: keys[0], ConsistentRead: true }));
      return [out.Item];
    }
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [table]: { Keys: keys.slice(i, i + 100), ConsistentRead: true },
      };
      while (request && Object.keys(request).length > 0) {
        const out: BatchGetItemCommandOutput = await this.reader.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const item of out.Responses?.[table] ?? []) found.set(canonical(keyOf(this.spec, item)), item);
        request = out.UnprocessedKeys;
      }
    }
    return keys.map((key) => found.get(canonical(key)));
  }

  private ensureShadow(table: string): Promise<void> {
    let ready = this.shadows.get(table);
    if (!ready) {
      const { partitionKey, sortKey } = this.spec;
      ready = this.reader
        .send(
          new CreateTableCommand({
            TableName: table + SHADOW_SUFFIX,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [partitionKey, ...(sortKey ? [sortKey] : [])].map((name) => ({
              AttributeName: name,
              AttributeType: "S",
            })),
            KeySchema: [
              { AttributeName: partitionKey, KeyType: "HASH" },
              ...(sortKey ? [{ AttributeName: sortKey, KeyType: "RANGE" as const }] : []),
            ],
          }),
        )
        .then(
          () => undefined,
          (error: unknown) => {
            if (errorName(error) !== "ResourceInUseException") {
              this.shadows.delete(table);
              throw error;
            }
          },
        );
      this.shadows.set(table, ready);
    }
    return ready;
  }

  /**
   * The item after `update`, applied by DynamoDB Local to a copy of `before` in the shadow table; undefined when
   * the update's condition fails (or DynamoDB refuses it: the real request then fails the same way).
   */
  private async evaluateUpdate(
    table: string,
    update: UpdateInput,
    before: Item | undefined,
  ): Promise<Item | undefined> {
    const { partitionKey } = this.spec;
    const realKey = update.Key!;
    if (update.UpdateExpression) {
      const simple = applySimpleUpdate(
        before,
        realKey,
        update.UpdateExpression,
        update.ExpressionAttributeNames,
        update.ExpressionAttributeValues,
      );
      if (simple) return simple;
    }
    if (realKey[partitionKey]?.S === undefined) return before; // not this table's layout: size as unchanged
    await this.ensureShadow(table);
    const shadowPk: AttributeValue = { S: `${realKey[partitionKey].S}#shadow#${process.pid}#${++this.shadowSeq}` };
    const shadowKey: Item = { ...realKey, [partitionKey]: shadowPk };
    const shadowTable = table + SHADOW_SUFFIX;
    try {
      if (before)
        await this.reader.send(
          new PutItemCommand({ TableName: shadowTable, Item: { ...before, [partitionKey]: shadowPk } }),
        );
      const out = await this.reader.send(
        new UpdateItemCommand({
          TableName: shadowTable,
          Key: shadowKey,
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: update.ConditionExpression,
          ExpressionAttributeNames: update.ExpressionAttributeNames,
          ExpressionAttributeValues: update.ExpressionAttributeValues,
          ReturnValues: "ALL_NEW",
        }),
      );
      return { ...(out.Attributes ?? {}), [partitionKey]: realKey[partitionKey] };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || errorName(error) === "ValidationException")
        return undefined;
      throw error;
    } finally {
      this.reader.send(new DeleteItemCommand({ TableName: shadowTable, Key: shadowKey })).catch(() => undefined);
    }
  }

  // -- admission ------------------------------------------------------------------------------------------------

  private window(id: string, now: number): Window {
    let w = this.windows.get(id);
    if (!w) {
      w = { entries: [], sum: 0 };
      this.windows.set(id, w);
      if (this.windows.size > 50_000) this.prune(now);
    }
    while (w.entries.length > 0 && w.entries[0]!.at <= now - WINDOW_MS) w.sum -= w.entries.shift()!.units;
    return w;
  }

  private prune(now: number): void {
    for (const [id, w] of this.windows) if (w.entries.every((e) => e.at <= now - WINDOW_MS)) this.windows.delete(id);
  }

  /** Charges the plan, or throws the throttling error DynamoDB would (charging nothing). Synchronous: no races. */
  private admit(plan: Plan): void {
    const now = this.now();
    const perKey = new Map<string, Charge & { table: string }>();
    const idOf = (table: string, c: Charge) => `${table}\u0000${c.index}\u0000${c.partitionKey}`;
    for (const action of plan.actions)
      for (const c of action.charges) {
        const id = idOf(action.table, c);
        const total = perKey.get(id);
        if (total) total.units += c.units;
        else perKey.set(id, { ...c, table: action.table });
      }
    const over = new Set<string>();
    for (const [id, c] of perKey) {
      const w = this.window(id, now);
      if (w.sum > 0 && w.sum + c.units > this.wcu) over.add(id);
    }
    if (over.size === 0) {
      for (const [id, c] of perKey) {
        const w = this.window(id, now);
        w.entries.push({ at: now, units: c.units });
        w.sum += c.units;
      }
      this.counters.admitted++;
      return;
    }
    this.counters.throttled++;
    const hot = [...over].map((id) => perKey.get(id)!);
    for (const c of hot) {
      const name = `${c.index} ${c.partitionKey}`;
      this.counters.throttledKeys.set(name, (this.counters.throttledKeys.get(name) ?? 0) + 1);
    }
    const describe = hot
      .map((c) => `${c.index === TABLE ? "table" : `index ${c.index}`} key ${c.partitionKey}`)
      .join(", ");
    const message = `Throughput exceeds the ${this.wcu} write units per second of partition key(s) ${describe} (ORDERLINE_LOCAL_PARTITION_WCU)`;
    if (plan.transactional) {
      const reasons: CancellationReason[] = plan.actions.map((action) =>
        action.charges.some((c) => over.has(idOf(action.table, c)))
          ? { Code: "ThrottlingError", Message: message }
          : { Code: "None" },
      );
      const text = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`;
      throw new TransactionCanceledException({
        message: text,
        Message: text,
        CancellationReasons: reasons,
        $metadata: { httpStatusCode: 400 },
      });
    }
    throw new ProvisionedThroughputExceededException({
      message,
      $metadata: { httpStatusCode: 400 },
      ThrottlingReasons: hot.map((c) => ({
        reason: c.index === TABLE ? "TableWriteKeyRangeThroughputExceeded" : "IndexWriteKeyRangeThroughputExceeded",
        resource: `${this.arnPrefix}:table/${c.table}${c.index === TABLE ? "" : `/index/${c.index}`}`,
      })),
    });
  }
}

/** `ORDERLINE_LOCAL_PARTITION_WCU` as a number of write units, or undefined when unset (or not a positive number). */
export function partitionWcuFromEnv(warn: (line: string) => void = () => undefined): number | undefined {
  const text = process.env.ORDERLINE_LOCAL_PARTITION_WCU;
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  if (Number.isFinite(value) && value > 0) return value;
  warn(`ORDERLINE_LOCAL_PARTITION_WCU=${text} is not a positive number; no partition limit`);
  return undefined;
}
