import * as z from "zod";
import { NotFoundError, ValidationError } from "../errors.js";
import { Cursor, Id, Limit } from "../schema.js";
import { getItem } from "../store/items.js";
import { childPage, queryPage, type Page } from "../store/page.js";
import { keys, tableDefinition } from "../store/table.js";
import { validate } from "../validate.js";
import { auditFromItem, relayFromItem, type Relay, type RelayAudit } from "./model.js";
import { RelayStatus } from "./status.js";

export const ListRelaysInput = z.strictObject({
  listingId: Id.optional(),
  status: z.enum(RelayStatus).optional(),
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
 * Relays of a listing (gsi1), in a status (gsi2), or both (the listing's relays filtered by status); newest
 * first. One of `listingId` and `status` is required: there is no unbounded scan.
 */
export async function list(rawInput: unknown): Promise<Page<Relay>> {
  const input = validate(ListRelaysInput, rawInput);
  const { gsi1, gsi2 } = tableDefinition.globalIndexes;
  if (input.listingId) {
    return queryPage(
      {
        index: "gsi1",
        partitionAttr: gsi1.partitionKey,
        partitionValue: keys.relaysByListing(input.listingId),
        newestFirst: true,
        ...(input.status
          ? { filter: { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":status": input.status } } }
          : {}),
      },
      input,
      relayFromItem,
    );
  }
  if (input.status) {
    return queryPage(
      { index: "gsi2", partitionAttr: gsi2.partitionKey, partitionValue: keys.relaysByStatus(input.status), newestFirst: true },
      input,
      relayFromItem,
    );
  }
  throw new ValidationError("give listingId, status or both", [{ path: "listingId", message: "listingId or status is required" }]);
}

/** Pending relays whose last dispatch attempt failed (the admin retry queue), oldest first. */
export async function failedPending(page: { limit: number; cursor?: string | undefined }): Promise<Page<Relay>> {
  const { gsi2 } = tableDefinition.globalIndexes;
  return queryPage(
    {
      index: "gsi2",
      partitionAttr: gsi2.partitionKey,
      partitionValue: keys.relaysByStatus("pending"),
      filter: {
        FilterExpression: "attribute_exists(#metadata.#lastError)",
        ExpressionAttributeNames: { "#metadata": "metadata", "#lastError": "lastError" },
      },
    },
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
