import { db } from "../store/client.js";
import { Entity, keys } from "../store/table.js";
import { type TransactItem, transactWrite } from "../store/transact.js";
import { updateIfMet, updateItem } from "../store/write.js";
import type { Listing, Supplier } from "./reference.js";

/** How the reference data relays read is written: listings, their SKU pointers, suppliers and their secret versions. */

/** A listing and, when it names a SKU, the SKU's pointer to it, in one transaction. */
export async function writeListing(listing: Listing): Promise<void> {
  const { tableName } = db();
  const actions: TransactItem[] = [
    { Put: { TableName: tableName, Item: { ...keys.listing(listing.listingId), entity: Entity.Listing, ...listing } } },
  ];
  if (listing.skuId)
    actions.push({
      Put: {
        TableName: tableName,
        Item: {
          ...keys.listingOfSku(listing.skuId),
          entity: Entity.ListingOfSku,
          skuId: listing.skuId,
          listingId: listing.listingId,
          updatedAt: listing.updatedAt,
        },
      },
    });
  await transactWrite(actions);
}

/** A supplier's name and endpoint; the secret versions on the same item are left as they are. */
export async function writeSupplier(supplier: Supplier): Promise<void> {
  await updateItem({
    key: keys.supplier(supplier.supplierId),
    update: "SET entity = :entity, supplierId = :id, #name = :name, endpointUrl = :url, updatedAt = :at",
    names: { "#name": "name" },
    values: {
      ":entity": Entity.Supplier,
      ":id": supplier.supplierId,
      ":name": supplier.name,
      ":url": supplier.endpointUrl,
      ":at": supplier.updatedAt,
    },
  });
}

/** A move of a supplier's secret version from `current` (null: none was ever issued) to `next`. */
export interface SecretVersionMove {
  current: number | null;
  next: number;
  issuedAt: string;
  /** Until when `current` keeps verifying (null when there is none). */
  previousValidUntil: string | null;
}

/**
 * Makes `next` the supplier's secret version, conditional on `current` still being it: false when another issue
 * moved the version first, so two concurrent issues never both believe they made the same version current.
 */
export async function moveSecretVersion(supplierId: string, move: SecretVersionMove): Promise<boolean> {
  return updateIfMet({
    key: keys.supplier(supplierId),
    update:
      "SET secretVersion = :next, secretIssuedAt = :now, previousSecretVersion = :current, previousSecretValidUntil = :until",
    condition: move.current === null ? "attribute_not_exists(secretVersion)" : "secretVersion = :current",
    values: {
      ":next": move.next,
      ":current": move.current,
      ":now": move.issuedAt,
      ":until": move.previousValidUntil,
    },
  });
}
