import { QueryCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DomainError } from "../errors.js";
import type { Actor } from "../schema.js";
import { db } from "../store/client.js";
import { Entity, keys, tableDefinition } from "../store/table.js";
import type { OrderItem } from "./model.js";
import { expirePayment } from "./transition.js";

export interface ExpirySweep {
  examined: number;
  canceled: string[];
  failed: { orderId: string; code: string; message: string }[];
}

/**
 * Cancels every order whose payment window closed before `now`. Orders awaiting payment sit on gsi2 under
 * `PAYMENT_DEADLINE`, sorted by deadline, and leave it on any transition; so one Query reads exactly the
 * overdue ones. Each cancellation goes through the guarded transition, so a payment that landed first wins.
 */
export async function expireOverduePayments(now: Date, who: Actor): Promise<ExpirySweep> {
  const { doc, tableName } = db();
  const { gsi2 } = tableDefinition.globalIndexes;
  const sweep: ExpirySweep = { examined: 0, canceled: [], failed: [] };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi2",
        KeyConditionExpression: "#pk = :pk AND #sk < :now",
        ExpressionAttributeNames: { "#pk": gsi2.partitionKey, "#sk": gsi2.sortKey },
        ExpressionAttributeValues: { ":pk": keys.paymentDeadlines, ":now": now.toISOString() },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      sweep.examined++;
      try {
        const result = await expirePayment(String(item.orderId), now, who);
        if (result.changed) sweep.canceled.push(result.order.orderId);
      } catch (error) {
        // One stuck order must not stop the sweep; it is reported so it can be looked at (and alarmed on).
        if (!(error instanceof DomainError)) throw error;
        sweep.failed.push({ orderId: String(item.orderId), code: error.code, message: error.message });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return sweep;
}

export interface ReservationDrift {
  skuId: string;
  recorded: number;
  expected: number;
  corrected: boolean;
}

async function scanEntity(entity: string, attributes: string[]): Promise<Record<string, unknown>[]> {
  const names: Record<string, string> = { "#entity": "entity" };
  attributes.forEach((name, i) => (names[`#a${i}`] = name));
  const { doc, tableName } = db();
  const items: Record<string, unknown>[] = [];
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
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Recomputes each SKU's `reserved` as the sum of the quantities of orders whose reservation is still HELD and
 * reports every SKU where the counter differs. With `fix`, a drifted counter is set to the recomputed value,
 * conditional on the SKU's `stockVersion` being the one read (any reservation, release or stock change since,
 * even ones that cancel out, makes that SKU's fix skip, reported as not corrected; run again). This is an admin job: it scans the table, which is fine at the volumes it is meant for.
 */
export async function reconcileReservations(options: { fix?: boolean } = {}): Promise<ReservationDrift[]> {
  // SKUs first, then orders: a reservation that commits or is released between the two reads changes the SKU's
  // counter, so the conditional fix below skips that SKU instead of undoing the change.
  const skus = await scanEntity(Entity.Sku, ["skuId", "reserved", "onHand", "stockVersion"]);
  const orders = await scanEntity(Entity.Order, ["orderId", "reservationStatus", "items"]);
  const expected = new Map<string, number>();
  for (const order of orders) {
    if (order.reservationStatus !== "HELD") continue;
    for (const line of order.items as OrderItem[]) expected.set(line.skuId, (expected.get(line.skuId) ?? 0) + line.qty);
  }
  const drifts: ReservationDrift[] = [];
  const { doc, tableName } = db();
  for (const sku of skus) {
    const skuId = String(sku.skuId);
    const recorded = Number(sku.reserved ?? 0);
    const want = expected.get(skuId) ?? 0;
    if (recorded === want) continue;
    let corrected = false;
    if (options.fix) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.sku(skuId),
            UpdateExpression: "SET reserved = :want, available = onHand - :want ADD stockVersion :one",
            ConditionExpression: sku.stockVersion === undefined ? "attribute_not_exists(stockVersion) AND reserved = :recorded" : "stockVersion = :version",
            ExpressionAttributeValues: {
              ":want": want,
              ":one": 1,
              ...(sku.stockVersion === undefined ? { ":recorded": recorded } : { ":version": sku.stockVersion }),
            },
          }),
        );
        corrected = true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    drifts.push({ skuId, recorded, expected: want, corrected });
  }
  return drifts;
}
