import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { db } from "./client.js";
import { inParallel } from "./lease.js";
import { type GlobalIndexName, tableDefinition } from "./table.js";

/**
 * A parallel Scan of one entity (`segments` segments), each page handed to `visit` and dropped: memory holds what
 * `visit` keeps, never the table. Consistent reads: a reconciliation must not miss a committed change.
 */
export async function scanEntity(
  entity: string,
  attributes: string[],
  segments: number,
  visit: (item: Record<string, unknown>) => void,
): Promise<void> {
  const names: Record<string, string> = {
    "#entity": "entity",
    ...Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
  };
  const { doc, tableName } = db();
  await inParallel(
    Array.from({ length: segments }, (_, i) => i),
    segments,
    async (segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: "#entity = :entity",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ":entity": entity },
            ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(", "),
            ExclusiveStartKey: startKey,
            ConsistentRead: true,
            Segment: segment,
            TotalSegments: segments,
          }),
        );
        for (const item of page.Items ?? []) visit(item);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    },
  );
}

export interface KeysPage {
  keys: { pk: string; sk: string }[];
  next: Record<string, unknown> | undefined;
}

/** One page of the table keys under one partition of a KEYS_ONLY index, with sort keys below `below` (ascending). */
export async function indexKeysBelow(
  index: GlobalIndexName,
  partition: string,
  below: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<KeysPage> {
  const { doc, tableName } = db();
  const definition = tableDefinition.globalIndexes[index];
  const page = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index,
      KeyConditionExpression: "#pk = :pk AND #sk < :below",
      ExpressionAttributeNames: { "#pk": definition.partitionKey, "#sk": definition.sortKey },
      ExpressionAttributeValues: { ":pk": partition, ":below": below },
      ExclusiveStartKey: startKey,
      Limit: limit,
    }),
  );
  return {
    keys: (page.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) })),
    next: page.LastEvaluatedKey,
  };
}
