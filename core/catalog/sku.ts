import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import * as z from "zod";
import { DomainError, NotFoundError } from "../errors.js";
import { Currency, Id, Money } from "../schema.js";
import { validate } from "../validate.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { Entity, keys } from "../store/table.js";

/**
 * One item per SKU holds both its current offer (the re-quote source, owned by the catalog domain) and its
 * stock counters. Keeping them together lets checkout assert "offer still as seen AND enough stock" in a single
 * conditional update per line. Invariant: `available = onHand - reserved` and `0 <= reserved <= onHand`;
 * `stockVersion` grows with every change of the counters (reconciliation conditions its fix on it).
 */
export const OfferInput = z.strictObject({
  offerId: Id,
  unitPrice: Money,
  currency: Currency,
  title: z.string().min(1).max(200).optional(),
});
export type OfferInput = z.infer<typeof OfferInput>;

export interface Offer extends OfferInput {
  skuId: string;
  updatedAt: string;
}

export const StockInput = z.strictObject({ onHand: z.int().min(0).max(1_000_000_000) });

export interface Stock {
  skuId: string;
  onHand: number;
  reserved: number;
  available: number;
}

/** The stored SKU item as checkout reads it to explain a failed reservation. */
export interface SkuState {
  skuId: string;
  offerId?: string;
  unitPrice?: number;
  currency?: string;
  title?: string;
  onHand?: number;
  reserved?: number;
  available?: number;
}

export async function putOffer(skuId: string, input: unknown): Promise<Offer> {
  const id = validate(Id, skuId);
  const offer = validate(OfferInput, input);
  const { doc, tableName } = db();
  const updatedAt = new Date().toISOString();
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: keys.sku(id),
      UpdateExpression:
        "SET entity = :entity, skuId = :skuId, offerId = :offerId, unitPrice = :unitPrice, currency = :currency, title = :title, offerUpdatedAt = :at",
      ExpressionAttributeValues: {
        ":entity": Entity.Sku,
        ":skuId": id,
        ":offerId": offer.offerId,
        ":unitPrice": offer.unitPrice,
        ":currency": offer.currency,
        ":title": offer.title ?? null,
        ":at": updatedAt,
      },
    }),
  );
  return { skuId: id, ...offer, updatedAt };
}

export async function getSku(skuId: string): Promise<SkuState | undefined> {
  return (await getItem(keys.sku(skuId))) as SkuState | undefined;
}

export async function getOffer(skuId: string): Promise<Offer> {
  const sku = await getSku(validate(Id, skuId));
  if (!sku?.offerId || sku.unitPrice === undefined || !sku.currency) throw new NotFoundError("offer for SKU", skuId);
  return {
    skuId: sku.skuId,
    offerId: sku.offerId,
    unitPrice: sku.unitPrice,
    currency: sku.currency,
    ...(sku.title ? { title: sku.title } : {}),
    updatedAt: (sku as { offerUpdatedAt?: string }).offerUpdatedAt ?? "",
  };
}

export function stockOf(skuId: string, sku: SkuState | undefined): Stock {
  const onHand = sku?.onHand ?? 0;
  const reserved = sku?.reserved ?? 0;
  return { skuId, onHand, reserved, available: Math.max(0, onHand - reserved) };
}

/**
 * Sets stock on hand. Refused when it would drop below what live orders hold, because `available` must never
 * go negative (those orders would be oversold).
 */
export async function setStock(skuId: string, input: unknown): Promise<Stock> {
  const id = validate(Id, skuId);
  const { onHand } = validate(StockInput, input);
  const { doc, tableName } = db();
  try {
    const result = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.sku(id),
        UpdateExpression:
          "SET entity = :entity, skuId = :skuId, onHand = :onHand, reserved = if_not_exists(reserved, :zero), available = :onHand - if_not_exists(reserved, :zero) ADD stockVersion :one",
        ConditionExpression: "attribute_not_exists(reserved) OR reserved <= :onHand",
        ExpressionAttributeValues: { ":entity": Entity.Sku, ":skuId": id, ":onHand": onHand, ":zero": 0, ":one": 1 },
        ReturnValues: "ALL_NEW",
      }),
    );
    return stockOf(id, result.Attributes as SkuState);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const current = stockOf(id, await getSku(id));
      throw new DomainError("STOCK_BELOW_RESERVED", `onHand ${onHand} is below the ${current.reserved} units live orders hold`, {
        reserved: current.reserved,
      });
    }
    throw error;
  }
}

export async function getStock(skuId: string): Promise<Stock> {
  const id = validate(Id, skuId);
  const sku = await getSku(id);
  if (sku?.onHand === undefined) throw new NotFoundError("stock for SKU", id);
  return stockOf(id, sku);
}
