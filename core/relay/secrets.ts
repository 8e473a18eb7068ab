import { createHmac, timingSafeEqual } from "node:crypto";
import { ConcurrencyError, NotFoundError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import { Id } from "../schema.js";
import { getItem } from "../store/items.js";
import { keys } from "../store/table.js";
import { validate } from "../validate.js";
import { signingSecret } from "./config.js";
import { moveSecretVersion } from "./store-reference.js";

/**
 * Per-supplier signing secrets, Standard Webhooks style (`whsec_<base64 key>`). No secret is stored anywhere: the key
 * of version v is HMAC-SHA256(master, "supplier-secret:<supplierId>:<v>"), the master being the stage's
 * SUPPLIER_SIGNING_SECRET (an SST Config secret in AWS). The table holds only version numbers and dates, so a table
 * export or backup leaks nothing, no KMS call sits on the dispatch or webhook path, and the local runtime derives
 * exactly what AWS does. Rotating the master rotates every supplier at once (re-issue and hand out all secrets).
 *
 * Issuing a new secret keeps the previous one verifying for PREVIOUS_SECRET_GRACE_MS (rotation without downtime).
 */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export interface SupplierSecrets {
  supplierId: string;
  /** Keys that verify an inbound signature now: the current one, and the previous one inside its grace period. */
  verifying: Buffer[];
  /** The key outbound dispatch signs with, when a secret was ever issued. */
  signing: Buffer | undefined;
}

async function keyOf(supplierId: string, version: number): Promise<Buffer> {
  return createHmac("sha256", await signingSecret())
    .update(`supplier-secret:${supplierId}:${version}`)
    .digest();
}

export const formatSecret = (key: Buffer) => `whsec_${key.toString("base64")}`;

/** The key of a `whsec_` secret (what a supplier signs with). */
export function parseSecret(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ""), "base64");
}

/** Issues racing on one supplier's version before this one gives up (each lost race means another one won). */
const MAX_ISSUE_TRIES = 6;

/**
 * Issues the supplier's next secret and returns it: the only time it is ever shown. The version moves by a
 * conditional update, so two concurrent issues cannot both believe they made the same version current.
 */
export async function issueSecret(
  supplierId: string,
  now = new Date(),
): Promise<{ supplierId: string; secret: string }> {
  const id = validate(Id, supplierId);
  const replans = replanAfterLostRace(MAX_ISSUE_TRIES);
  do {
    const item = await getItem(keys.supplier(id));
    if (!item) throw new NotFoundError("supplier", id, "SUPPLIER_NOT_FOUND");
    const current = typeof item.secretVersion === "number" ? item.secretVersion : 0;
    const next = current + 1;
    const moved = await moveSecretVersion(id, {
      current: current === 0 ? null : current,
      next,
      issuedAt: now.toISOString(),
      previousValidUntil: current === 0 ? null : new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS).toISOString(),
    });
    if (moved) return { supplierId: id, secret: formatSecret(await keyOf(id, next)) };
  } while (await replans.wait());
  throw new ConcurrencyError(`the secret of supplier ${id} kept changing; retry the request`);
}

/** The keys of a supplier as of `now`, from its stored versions (undefined when the supplier is unknown). */
export async function secretsOf(supplierId: string, now = new Date()): Promise<SupplierSecrets | undefined> {
  const item = await getItem(keys.supplier(supplierId));
  return item ? secretsOfItem(supplierId, item, now) : undefined;
}

/** The keys of a supplier as of `now`, from its stored item's versions. */
export async function secretsOfItem(
  supplierId: string,
  item: Record<string, unknown>,
  now = new Date(),
): Promise<SupplierSecrets> {
  const current = typeof item.secretVersion === "number" ? item.secretVersion : undefined;
  const previous = typeof item.previousSecretVersion === "number" ? item.previousSecretVersion : undefined;
  const previousValid =
    previous !== undefined &&
    typeof item.previousSecretValidUntil === "string" &&
    item.previousSecretValidUntil > now.toISOString();
  const signing = current === undefined ? undefined : await keyOf(supplierId, current);
  const verifying = [...(signing ? [signing] : []), ...(previousValid ? [await keyOf(supplierId, previous)] : [])];
  return { supplierId, verifying, signing };
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`: the Standard Webhooks signature. */
export function webhookSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The Standard Webhooks headers of one outbound message. */
export function signedHeaders(key: Buffer, id: string, body: string, now = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": webhookSignature(key, id, timestamp, body),
  };
}

export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export type SignatureVerdict = "ok" | "missing" | "stale" | "mismatch";

/**
 * Checks Standard Webhooks headers against `keys`: the timestamp within 5 minutes of `now`, and any of the
 * space-separated `v1,` signatures equal (constant-time) to one computed with any key (rotation).
 */
export function verifySignature(
  keys: Buffer[],
  headers: Record<string, string | undefined>,
  body: string,
  now = new Date(),
): SignatureVerdict {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return "missing";
  if (Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) return "stale";
  const given = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => Buffer.from(s.slice(3), "base64"));
  for (const key of keys) {
    const expected = Buffer.from(webhookSignature(key, id, Number(timestamp), body).slice(3), "base64");
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return "ok";
  }
  return "mismatch";
}
