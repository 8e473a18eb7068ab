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

/**
 * A number this service stores exactly: 0, or of magnitude between 1e-130 (DynamoDB's smallest) and
 * Number.MAX_SAFE_INTEGER (beyond it a JavaScript number is no longer exact, and the SDK refuses to marshal it).
 */
export const StorableNumber = z
  .number()
  .refine((n) => n === 0 || (Math.abs(n) >= 1e-130 && Math.abs(n) <= Number.MAX_SAFE_INTEGER), "is outside the range that can be stored exactly");

function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

function storableValues(value: unknown): boolean {
  if (typeof value === "number") return StorableNumber.safeParse(value).success;
  if (typeof value === "string") return value.length <= 2000;
  if (value === null || typeof value !== "object") return true;
  return (Array.isArray(value) ? value : Object.values(value)).every(storableValues);
}

/** Serialized size a free-form payload may take: it travels inside an event item and a 256 KB EventBridge entry. */
export const MAX_FREE_FORM_BYTES = 16 * 1024;

/**
 * A free-form JSON object a caller may attach (event payloads): at most 8 levels deep, at most 16 KB serialized,
 * every value storable.
 */
export const FreeFormObject = z
  .record(z.string().max(128), z.unknown())
  .refine((value) => depthOf(value) <= 8, "is nested too deeply (at most 8 levels)")
  .refine(storableValues, "holds a number out of range or a string over 2000 characters")
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_FREE_FORM_BYTES, `is larger than ${MAX_FREE_FORM_BYTES} bytes`);
