import * as z from "zod";
import { NotFoundError } from "../errors.js";
import { Currency, Id, Money } from "../schema.js";
import { getItem } from "../store/items.js";
import { Entity, keys, stripLayout } from "../store/table.js";
import { putItem } from "../store/write.js";
import { validate } from "../validate.js";

export const OrderLineInput = z.strictObject({
  skuId: Id,
  qty: z.int().min(1).max(999),
  offerId: Id,
  unitPrice: Money,
});
export type OrderLineInput = z.infer<typeof OrderLineInput>;

/** 1..50 lines, one per SKU. */
export const OrderLines = z
  .array(OrderLineInput)
  .min(1)
  .max(50)
  .superRefine((lines, ctx) => {
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      if (seen.has(line.skuId))
        ctx.addIssue({
          code: "custom",
          path: [i, "skuId"],
          message: `duplicate skuId ${line.skuId}: one line per SKU`,
        });
      seen.add(line.skuId);
    });
  });

export const CartInput = z.strictObject({ userId: Id, currency: Currency, items: OrderLines });

export interface Cart extends z.infer<typeof CartInput> {
  cartId: string;
  updatedAt: string;
}

/** The cart snapshot checkout reads (carts are owned by another domain; this is its read model). */
export async function putCart(cartId: string, input: unknown): Promise<Cart> {
  const id = validate(Id, cartId);
  const cart: Cart = { cartId: id, ...validate(CartInput, input), updatedAt: new Date().toISOString() };
  await putItem({ ...keys.cart(id), entity: Entity.Cart, ...cart });
  return cart;
}

export async function getCart(cartId: string): Promise<Cart> {
  const id = validate(Id, cartId);
  const item = await getItem(keys.cart(id));
  if (!item) throw new NotFoundError("cart", id, "CART_NOT_FOUND");
  return cartFromItem(item);
}

export function cartFromItem(item: Record<string, unknown>): Cart {
  return stripLayout(item) as unknown as Cart;
}
