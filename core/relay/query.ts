import * as z from "zod";
import { NotFoundError, ValidationError } from "../errors.js";
import { Cursor, Id, Limit } from "../schema.js";
import { getItem } from "../store/items.js";
import { childPage, indexPage, type Page, type PageRequest } from "../store/page.js";
import { allShards, keys, type RelayQueue, ShardCount } from "../store/table.js";
import { validate } from "../validate.js";
import { auditFromItem, type Relay, type RelayAudit, relayFromItem } from "./model.js";
import { RelayStatus } from "./status.js";

export const ListRelaysInput = z.strictObject({
  listingId: Id.optional(),
  status: z.enum(RelayStatus).optional(),
  /** `true`: the pending relays whose failed attempts passed the threshold (not retried without naming them). */
  needsAttention: z
    .enum(["true"])
    .transform(() => true)
    .optional(),
  limit: Limit,
  cursor: Cursor,
});
export const ListAuditInput = z.strictObject({ limit: Limit, cursor: Cursor });

/** The stored relay item (with its internal attributes), or undefined. */
export async function readRelayItem(relayId: string): Promise<Record<string, unknown> | undefined> {
  return getItem(keys.relay(relayId));
}

export async function get(relayId: string): Promise<Relay> {
  const id = validate(Id, relayId);
  const item = await readRelayItem(id);
  if (!item) throw new NotFoundError("relay", id);
  return relayFromItem(item);
}

/**
 * Relays of a listing (gsi1), in a status (gsi2), or both (the listing's relays filtered by status), or those
 * needing attention (gsi3: failed past the attempt threshold); newest first. Each list is spread over shards and
 * read by parallel queries (see `indexPage`). One filter is required: there is no unbounded scan.
 */
export async function list(rawInput: unknown): Promise<Page<Relay>> {
  const input = validate(ListRelaysInput, rawInput);
  if (input.listingId) {
    const status = input.status;
    return indexPage(
      {
        index: "gsi1",
        partitions: allShards(keys.relaysByListingPrefix(input.listingId), ShardCount.relaysByListing),
        newestFirst: true,
        ...(status ? { keep: (item: Record<string, unknown>) => item.status === status } : {}),
      },
      input,
      relayFromItem,
    );
  }
  if (input.status)
    return indexPage(
      {
        index: "gsi2",
        partitions: allShards(keys.relaysByStatusPrefix(input.status), ShardCount.relaysByStatus),
        newestFirst: true,
      },
      input,
      relayFromItem,
    );
  if (input.needsAttention) return queuePage("ATTENTION", input);
  throw new ValidationError("give listingId, status or needsAttention", [
    { path: "listingId", message: "listingId, status or needsAttention is required" },
  ]);
}

/** One page of a failure queue, oldest first. */
export async function queuePage(queue: RelayQueue, page: PageRequest): Promise<Page<Relay>> {
  return indexPage(
    { index: "gsi3", partitions: allShards(keys.relayQueuePrefix(queue), ShardCount.relayRetry) },
    page,
    relayFromItem,
  );
}

/** A relay's audit log, oldest first. */
export async function audit(relayId: string, rawInput: unknown): Promise<Page<RelayAudit>> {
  const id = validate(Id, relayId);
  const input = validate(ListAuditInput, rawInput);
  return childPage(keys.relay(id).pk, keys.relayAuditPrefix, input, auditFromItem, () => get(id));
}
