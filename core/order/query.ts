import * as z from "zod";
import { NotFoundError } from "../errors.js";
import { Cursor, Id, Limit } from "../schema.js";
import { getItem } from "../store/items.js";
import { childPage, queryPage, type Page } from "../store/page.js";
import { keys, tableDefinition } from "../store/table.js";
import { validate } from "../validate.js";
import { orderEventFromItem, orderFromItem, type Order, type OrderEvent } from "./model.js";

export const ListOrdersInput = z.strictObject({ userId: Id, limit: Limit, cursor: Cursor });
export const ListEventsInput = z.strictObject({ limit: Limit, cursor: Cursor });

export async function get(orderId: string): Promise<Order> {
  const id = validate(Id, orderId);
  const item = await getItem(keys.order(id));
  if (!item) throw new NotFoundError("order", id);
  return orderFromItem(item);
}

/** A user's orders, newest first (order ids are ULIDs, so they sort by creation time). */
export async function listByUser(rawInput: unknown): Promise<Page<Order>> {
  const input = validate(ListOrdersInput, rawInput);
  const { gsi1 } = tableDefinition.globalIndexes;
  return queryPage(
    { index: "gsi1", partitionAttr: gsi1.partitionKey, partitionValue: keys.ordersByUser(input.userId), newestFirst: true },
    input,
    orderFromItem,
  );
}

/** An order's history, oldest first, in `seq` order. */
export async function events(orderId: string, rawInput: unknown): Promise<Page<OrderEvent>> {
  const id = validate(Id, orderId);
  const input = validate(ListEventsInput, rawInput);
  return childPage(keys.order(id).pk, keys.orderEventPrefix, input, orderEventFromItem, () => get(id));
}
