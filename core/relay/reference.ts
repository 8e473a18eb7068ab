import * as z from "zod";
import { NotFoundError } from "../errors.js";
import { Currency, Id, Money } from "../schema.js";
import { getItem } from "../store/items.js";
import { keys, stripLayout } from "../store/table.js";
import { validate } from "../validate.js";
import { withoutAttributes } from "./model.js";
import { writeListing, writeSupplier } from "./store-reference.js";

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
  /** The order-domain SKU this listing sells: a paid order of it gets a relay (contract "move together"). */
  skuId: Id.optional(),
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

/**
 * Stores a listing; one naming a `skuId` also points the SKU at it (`LISTING_SKU#<skuId>`), in the same
 * transaction. The pointer is only a hint: a reader checks that the listing it names still sells that SKU and is
 * active, so a listing that moved to another SKU leaves no wrong relay behind.
 */
export async function putListing(listingId: string, input: unknown): Promise<Listing> {
  const id = validate(Id, listingId);
  const listing: Listing = { listingId: id, ...validate(ListingInput, input), updatedAt: new Date().toISOString() };
  await writeListing(listing);
  return listing;
}

/** The active listing that sells `skuId`, if any. */
export async function listingOfSku(skuId: string): Promise<Listing | undefined> {
  const pointer = await getItem(keys.listingOfSku(skuId));
  if (!pointer) return undefined;
  const listing = await findListing(String(pointer.listingId));
  return listing && listing.skuId === skuId && listing.active ? listing : undefined;
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

/** Stores a supplier's name and endpoint; its secret versions (see secrets.ts) are kept as they are. */
export async function putSupplier(supplierId: string, input: unknown): Promise<Supplier> {
  const id = validate(Id, supplierId);
  const supplier: Supplier = { supplierId: id, ...validate(SupplierInput, input), updatedAt: new Date().toISOString() };
  await writeSupplier(supplier);
  return supplier;
}

/** Attributes of the stored supplier that are not part of its representation. */
const SECRET_ATTRIBUTES = ["secretVersion", "secretIssuedAt", "previousSecretVersion", "previousSecretValidUntil"];

export async function findSupplier(supplierId: string): Promise<Supplier | undefined> {
  return (await findSupplierRecord(supplierId))?.supplier;
}

/** The supplier and its stored item, from one read: a dispatch needs both its endpoint and its secret versions. */
export async function findSupplierRecord(
  supplierId: string,
): Promise<{ supplier: Supplier; item: Record<string, unknown> } | undefined> {
  const item = await getItem(keys.supplier(supplierId));
  return item ? { supplier: withoutAttributes(item, SECRET_ATTRIBUTES) as unknown as Supplier, item } : undefined;
}

export async function getSupplier(supplierId: string): Promise<Supplier> {
  const id = validate(Id, supplierId);
  const supplier = await findSupplier(id);
  if (!supplier) throw new NotFoundError("supplier", id, "SUPPLIER_NOT_FOUND");
  return supplier;
}
