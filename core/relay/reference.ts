import { PutCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { NotFoundError } from "../errors.js";
import { Currency, Id, Money } from "../schema.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { Entity, keys, stripLayout } from "../store/table.js";
import { validate } from "../validate.js";

/**
 * Reference data other domains own (SellerListing: the seller; Supplier: supplier onboarding); relays keep the
 * read model they need. A listing names the supplier offer the seller chose when listing (DS-4.1 §2.2): a relay
 * reaches the offer only through its listing.
 */
export const ListingInput = z.strictObject({
  sellerId: Id,
  supplierId: Id,
  supplierOfferId: Id,
  sellingPrice: Money,
  currency: Currency,
  channel: z.string().min(1).max(64),
  active: z.boolean(),
});
export type ListingInput = z.infer<typeof ListingInput>;

export interface Listing extends ListingInput {
  listingId: string;
  updatedAt: string;
}

export const SupplierInput = z.strictObject({
  name: z.string().min(1).max(200),
  endpointUrl: z.url({ protocol: /^https?$/ }).max(2048),
});
export type SupplierInput = z.infer<typeof SupplierInput>;

export interface Supplier extends SupplierInput {
  supplierId: string;
  updatedAt: string;
}

export async function putListing(listingId: string, input: unknown): Promise<Listing> {
  const id = validate(Id, listingId);
  const listing: Listing = { listingId: id, ...validate(ListingInput, input), updatedAt: new Date().toISOString() };
  const { doc, tableName } = db();
  await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.listing(id), entity: Entity.Listing, ...listing } }));
  return listing;
}

/** The listing, or undefined when it does not exist. */
export async function findListing(listingId: string): Promise<Listing | undefined> {
  const item = await getItem(keys.listing(listingId));
  return item ? (stripLayout(item) as unknown as Listing) : undefined;
}

export async function getListing(listingId: string): Promise<Listing> {
  const id = validate(Id, listingId);
  const listing = await findListing(id);
  if (!listing) throw new NotFoundError("listing", id, "LISTING_NOT_FOUND");
  return listing;
}

export async function putSupplier(supplierId: string, input: unknown): Promise<Supplier> {
  const id = validate(Id, supplierId);
  const supplier: Supplier = { supplierId: id, ...validate(SupplierInput, input), updatedAt: new Date().toISOString() };
  const { doc, tableName } = db();
  await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.supplier(id), entity: Entity.Supplier, ...supplier } }));
  return supplier;
}

export async function findSupplier(supplierId: string): Promise<Supplier | undefined> {
  const item = await getItem(keys.supplier(supplierId));
  return item ? (stripLayout(item) as unknown as Supplier) : undefined;
}

export async function getSupplier(supplierId: string): Promise<Supplier> {
  const id = validate(Id, supplierId);
  const supplier = await findSupplier(id);
  if (!supplier) throw new NotFoundError("supplier", id, "SUPPLIER_NOT_FOUND");
  return supplier;
}
