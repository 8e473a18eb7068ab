import { createHmac, timingSafeEqual } from "node:crypto";

/** Header carrying the HMAC-SHA256 of the exact request body, as `sha256=<hex>`. */
export const SIGNATURE_HEADER = "X-Orderline-Signature";

/** `sha256=<hex>` HMAC-SHA256 of `body` (the exact bytes sent) under `secret`. */
export function sign(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** Constant-time check of a signature header against `body` (what a supplier does on receipt). */
export function verify(body: string, secret: string, header: string | undefined | null): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
