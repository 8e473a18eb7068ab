import * as z from "zod";
import { Id, Money } from "../schema.js";

/** One line of an order as the customer saw it: the quantity and the offer (id and price) it was quoted at. */
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
