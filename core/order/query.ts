import * as z from "zod";
import { NotFoundError, ValidationError } from "../errors.js";
import { Cursor, Id, Limit } from "../schema.js";
import { getItem } from "../store/items.js";
import { childPage, indexPage, type Page, type PageRequest } from "../store/page.js";
import { keys } from "../store/table.js";
import { validate } from "../validate.js";
import { MAX_EVENTS_PER_CHANGE } from "./history.js";
import { type Order, type OrderEvent, orderEventsFromItem, orderFromItem } from "./model.js";

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
  return indexPage(
    { index: "gsi1", partitions: [keys.ordersByUser(input.userId)], newestFirst: true },
    input,
    orderFromItem,
  );
}

const EventsCursor = z.strictObject({ afterSeq: z.int().min(1).max(1_000_000) });

function decodeEventsCursor(cursor: string): number {
  try {
    const parsed = EventsCursor.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data.afterSeq;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError("cursor is not valid for this list", [{ path: "cursor", message: "invalid cursor" }]);
}

/**
 * An order's history, oldest first, in `seq` order. Events are stored one item per change (up to
 * MAX_EVENTS_PER_CHANGE events each), so the cursor is the last `seq` handed out and a page starts at the item
 * that may hold the next one.
 */
export async function events(orderId: string, rawInput: unknown): Promise<Page<OrderEvent>> {
  const id = validate(Id, orderId);
  const input = validate(ListEventsInput, rawInput);
  const afterSeq = input.cursor ? decodeEventsCursor(input.cursor) : 0;
  const collected: OrderEvent[] = [];
  const from = Math.max(1, afterSeq + 2 - MAX_EVENTS_PER_CHANGE);
  let position: PageRequest["cursor"];
  // Read one event more than the page so that the cursor is null exactly when nothing follows.
  do {
    const result = await childPage(
      keys.order(id).pk,
      keys.orderEventPrefix,
      { limit: input.limit + 1, cursor: position },
      (item) => item,
      () => get(id),
      keys.orderEvent(id, from).sk,
    );
    for (const item of result.items)
      for (const { order: _summary, ...event } of orderEventsFromItem(item))
        if (event.seq > afterSeq) collected.push(event);
    position = result.nextCursor ?? undefined;
  } while (position && collected.length <= input.limit);
  const items = collected.slice(0, input.limit);
  const more = collected.length > input.limit;
  return {
    items,
    nextCursor: more ? Buffer.from(JSON.stringify({ afterSeq: items.at(-1)!.seq })).toString("base64url") : null,
  };
}
