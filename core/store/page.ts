import { createHash } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ValidationError } from "../errors.js";
import { db } from "./client.js";
import { getItems } from "./items.js";
import { type GlobalIndexName, tableDefinition } from "./table.js";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/**
 * Decodes an opaque cursor and checks that it is a key this very query could have returned: exactly the table's key
 * attributes, both strings, in the partition being queried and under its sort-key prefix. A crafted cursor is a 400,
 * never a DynamoDB error and never a way into other data.
 */
function decodeCursor(cursor: string, params: PartitionQuery): Record<string, unknown> {
  const expected = new Set<string>([tableDefinition.partitionKey, tableDefinition.sortKey]);
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (key && typeof key === "object" && !Array.isArray(key)) {
      const record = key as Record<string, unknown>;
      const names = Object.keys(record);
      const exact =
        names.length === expected.size &&
        names.every((n) => expected.has(n) && typeof record[n] === "string" && record[n] !== "");
      const inPartition = record[tableDefinition.partitionKey] === params.partition;
      const underPrefix = String(record[tableDefinition.sortKey]).startsWith(params.prefix);
      if (exact && inPartition && underPrefix) return record;
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError("cursor is not valid for this list", [{ path: "cursor", message: "invalid cursor" }]);
}

interface PartitionQuery {
  partition: string;
  /** Sort-key prefix of the items listed. */
  prefix: string;
  /** Start at this sort key (inclusive) instead of the first under the prefix. */
  from?: string;
}

/** Query calls one page may make before it returns what it has (with a cursor): bounds a request's time. */
const MAX_QUERIES_PER_PAGE = 10;

/** One page of the items of one table partition under a sort-key prefix, in sort-key order. */
async function partitionPage<T>(
  params: PartitionQuery,
  page: PageRequest,
  map: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const { doc, tableName } = db();
  const names = { "#pk": tableDefinition.partitionKey, "#sk": tableDefinition.sortKey };
  const values: Record<string, unknown> =
    params.from === undefined
      ? { ":pk": params.partition, ":skPrefix": params.prefix }
      : { ":pk": params.partition, ":skFrom": params.from, ":skTo": `${params.prefix}\uffff` };
  const condition =
    params.from === undefined
      ? "#pk = :pk AND begins_with(#sk, :skPrefix)"
      : "#pk = :pk AND #sk BETWEEN :skFrom AND :skTo";
  const items: T[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, params) : undefined;
  // A page can come back short at DynamoDB's 1 MB limit: keep reading until it is full, the partition ends, or the
  // query budget is spent (the cursor then resumes where this page stopped).
  for (let queries = 1; ; queries++) {
    const result = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: page.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) items.push(map(item));
    startKey = result.LastEvaluatedKey;
    if (!startKey || items.length >= page.limit || queries >= MAX_QUERIES_PER_PAGE) break;
  }
  return { items, nextCursor: startKey ? encodeCursor(startKey) : null };
}

/**
 * One page of the items stored under a parent's partition whose sort key starts with `prefix` (an order's events,
 * a relay's audit log), oldest first. An empty first page calls `assertParent`, so an unknown parent is a 404 and
 * not an empty list.
 */
export async function childPage<T>(
  partition: string,
  prefix: string,
  page: PageRequest,
  map: (item: Record<string, unknown>) => T,
  assertParent: () => Promise<unknown>,
  from?: string,
): Promise<Page<T>> {
  const result = await partitionPage({ partition, prefix, ...(from === undefined ? {} : { from }) }, page, map);
  if (result.items.length === 0 && !page.cursor) await assertParent();
  return result;
}

interface IndexListParams {
  index: GlobalIndexName;
  /** The partition keys of the list: one, or every shard of a spread key. */
  partitions: string[];
  newestFirst?: boolean;
  /** Applied to the fetched items (the index holds keys only); a page may then hold fewer than `limit`. */
  keep?: (item: Record<string, unknown>) => boolean;
}

/** Where each partition of a list stands: not started (null), read up to a sort key, or exhausted (false). */
type Positions = (string | null | false)[];

function invalidCursor(): ValidationError {
  return new ValidationError("cursor is not valid for this list", [{ path: "cursor", message: "invalid cursor" }]);
}

/** Ties a cursor to the list it came from: another list's cursor is refused, not read into another partition. */
function fingerprint(partitions: string[]): string {
  return createHash("sha256").update(partitions.join("\u0000")).digest("base64url").slice(0, 12);
}

function encodePositions(partitions: string[], positions: Positions): string {
  return Buffer.from(JSON.stringify([fingerprint(partitions), ...positions])).toString("base64url");
}

function decodePositions(cursor: string, partitions: string[]): Positions {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && value[0] === fingerprint(partitions)) {
      const positions = value.slice(1);
      if (
        positions.length === partitions.length &&
        positions.every((p) => p === null || p === false || (typeof p === "string" && p !== "" && p.length <= 512)) &&
        positions.some((p) => p !== false)
      )
        return positions as Positions;
    }
  } catch {
    // fall through to the validation error
  }
  throw invalidCursor();
}

interface IndexEntry {
  partition: number;
  sortKey: string;
  key: { pk: string; sk: string };
}

/**
 * One page of a list read from a KEYS_ONLY index over one or several partition keys (the shards of a spread key),
 * merged in sort-key order, then the items fetched by key (consistent reads). The cursor records, per partition,
 * the last sort key handed out, so a page never repeats or skips an entry whatever the other shards hold.
 */
export async function indexPage<T>(
  params: IndexListParams,
  page: PageRequest,
  map: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const { doc, tableName } = db();
  const index = tableDefinition.globalIndexes[params.index];
  let positions: Positions = page.cursor
    ? decodePositions(page.cursor, params.partitions)
    : params.partitions.map(() => null);
  const before = (a: string, b: string) => (params.newestFirst ? a > b : a < b);
  const items: T[] = [];
  for (
    let round = 1;
    round <= MAX_QUERIES_PER_PAGE && positions.some((p) => p !== false) && items.length < page.limit;
    round++
  ) {
    const want = page.limit - items.length;
    const fetched = await Promise.all(
      positions.map(async (position, partition) => {
        if (position === false) return { entries: [] as IndexEntry[], more: false };
        const result = await doc.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: params.index,
            KeyConditionExpression:
              position === null ? "#pk = :pk" : `#pk = :pk AND #sk ${params.newestFirst ? "<" : ">"} :after`,
            ExpressionAttributeNames: {
              "#pk": index.partitionKey,
              ...(position === null ? {} : { "#sk": index.sortKey }),
            },
            ExpressionAttributeValues: {
              ":pk": params.partitions[partition],
              ...(position === null ? {} : { ":after": position }),
            },
            ScanIndexForward: !params.newestFirst,
            Limit: want,
          }),
        );
        const entries = (result.Items ?? []).map((item) => ({
          partition,
          sortKey: String(item[index.sortKey]),
          key: { pk: String(item.pk), sk: String(item.sk) },
        }));
        return { entries, more: result.LastEvaluatedKey !== undefined };
      }),
    );
    const merged = fetched
      .flatMap((f) => f.entries)
      .sort((a, b) => (before(a.sortKey, b.sortKey) ? -1 : a.sortKey === b.sortKey ? 0 : 1));
    const taken = merged.slice(0, want);
    const next: Positions = [...positions];
    fetched.forEach((f, partition) => {
      const mine = taken.filter((e) => e.partition === partition);
      if (mine.length > 0) next[partition] = mine[mine.length - 1]!.sortKey;
      if (!f.more && mine.length === f.entries.length) next[partition] = false;
    });
    positions = next;
    const found = taken.length > 0 ? await getItems(taken.map((e) => e.key)) : [];
    const byKey = new Map(found.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item]));
    for (const entry of taken) {
      const item = byKey.get(`${entry.key.pk}\u0000${entry.key.sk}`);
      // An entry whose item changed or went away since the index was read is left out (the index lags the table).
      if (
        item &&
        item[index.partitionKey] === params.partitions[entry.partition] &&
        (!params.keep || params.keep(item))
      )
        items.push(map(item));
    }
  }
  const done = positions.every((p) => p === false);
  return { items, nextCursor: done ? null : encodePositions(params.partitions, positions) };
}
