import * as z from "zod";
import { NotFoundError } from "../errors.js";
import { OrderLines } from "../order/lines.js";
import { Currency, Id } from "../schema.js";
import { getItem } from "../store/items.js";
import { Entity, keys, stripLayout } from "../store/table.js";
import { putItem } from "../store/write.js";
import { validate } from "../validate.js";

/**
 * The cart snapshot checkout reads. The shopping cart itself lives in the caller's commerce platform; Orderline keeps
 * only the snapshot it is sent, as a read model for checkout.
 */
export const CartInput = z.strictObject({ userId: Id, currency: Currency, items: OrderLines });

export interface Cart extends z.infer<typeof CartInput> {
  cartId: string;
  updatedAt: string;
}

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
