import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { ValidationError } from "../errors.js";
import { db } from "./client.js";
import { tableDefinition, type GlobalIndexName } from "./table.js";

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
 * Decodes an opaque cursor and checks that it is a key this very query could have returned: exactly the key
 * attributes of the table (and of the index, when querying one), all strings, in the partition being queried and
 * under its sort-key prefix. A crafted cursor is a 400, never a DynamoDB error and never a way into other data.
 */
function decodeCursor(cursor: string, params: QueryParams): Record<string, unknown> {
  const expected = new Set<string>([tableDefinition.partitionKey, tableDefinition.sortKey]);
  if (params.index) {
    const index = tableDefinition.globalIndexes[params.index];
    expected.add(index.partitionKey);
    expected.add(index.sortKey);
  }
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (key && typeof key === "object" && !Array.isArray(key)) {
      const record = key as Record<string, unknown>;
      const names = Object.keys(record);
      const exact = names.length === expected.size && names.every((n) => expected.has(n) && typeof record[n] === "string" && record[n] !== "");
      const inPartition = record[params.partitionAttr] === params.partitionValue;
      const underPrefix = !params.sortPrefix || String(record[params.sortPrefix.attr]).startsWith(params.sortPrefix.value);
      if (exact && inPartition && underPrefix) return record;
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError("cursor is not valid for this list", [{ path: "cursor", message: "invalid cursor" }]);
}

interface QueryParams {
  index?: GlobalIndexName;
  partitionAttr: string;
  partitionValue: string;
  sortPrefix?: { attr: string; value: string };
  newestFirst?: boolean;
  filter?: Pick<QueryCommandInput, "FilterExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues">;
}

/** Query calls one filtered page may make before it returns what it has (with a cursor): bounds a request's time. */
const MAX_QUERIES_PER_PAGE = 10;

/** One page of a Query over a single partition (table or GSI). */
export async function queryPage<T>(
  params: QueryParams,
  page: PageRequest,
  map: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const { doc, tableName } = db();
  const names: Record<string, string> = { "#pk": params.partitionAttr, ...params.filter?.ExpressionAttributeNames };
  const values: Record<string, unknown> = { ":pk": params.partitionValue, ...params.filter?.ExpressionAttributeValues };
  let condition = "#pk = :pk";
  if (params.sortPrefix) {
    names["#sk"] = params.sortPrefix.attr;
    values[":skPrefix"] = params.sortPrefix.value;
    condition += " AND begins_with(#sk, :skPrefix)";
  }
  const items: T[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, params) : undefined;
  // A filter can leave a page short; keep reading until the page is full, the partition ends, or the query budget
  // is spent (the cursor then resumes where this page stopped).
  for (let queries = 1; ; queries++) {
    const result = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: params.index,
        KeyConditionExpression: condition,
        FilterExpression: params.filter?.FilterExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: !params.newestFirst,
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
): Promise<Page<T>> {
  const result = await queryPage(
    { partitionAttr: tableDefinition.partitionKey, partitionValue: partition, sortPrefix: { attr: tableDefinition.sortKey, value: prefix } },
    page,
    map,
  );
  if (result.items.length === 0 && !page.cursor) await assertParent();
  return result;
}
