import * as z from "zod";

/** Ids are opaque but restricted to characters that cannot break the table's composite keys. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, "may contain only letters, digits and . _ : @ -");

/** Money in minor units of the currency; never a float. */
export const Money = z.int().min(0).max(1_000_000_000_000);

export const Currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as KRW");

export const Limit = z.coerce.number().int().min(1).max(100).default(20);

export const Cursor = z.string().min(1).max(2048).optional();

/** Who asked for a change and under which request id; recorded on every event and audit entry. */
export interface Actor {
  actor: string;
  requestId: string;
}
