import { DomainError } from "../errors.js";

/**
 * Data a relay never stores (DS-4.1 §6.3): payment card numbers, passwords, tokens, secrets and other
 * credentials. The detector reports where it found them and what kind they are, never the value itself.
 */
export type ForbiddenKind = "card_number" | "credential_key";

export interface ForbiddenFinding {
  /** Dotted path to the offending key or value; a key that itself looks like a card number is shown as `[redacted]`. */
  path: string;
  kind: ForbiddenKind;
}

/** Substrings of a normalised key (lower case, letters and digits only) that name a secret or card data. */
const credentialFragments = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "credential",
  "cvv",
  "cvc",
  "securitycode",
  "cardnumber",
  "creditcard",
  "apikey",
  "privatekey",
  "accesskey",
  "authorization",
  "sessionid",
] as const;

/** Whole normalised keys that are too short to match as fragments. */
const credentialKeys = new Set(["pwd", "pin", "pan", "otp", "cvv2", "auth"]);

export function isCredentialKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  return credentialKeys.has(normalised) || credentialFragments.some((fragment) => normalised.includes(fragment));
}

/** The Luhn (mod 10) check every payment card number passes. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

const MIN_PAN = 13;
const MAX_PAN = 19;

/**
 * Whether `text` contains a payment card number: 13 to 19 digits, written together or in groups separated by
 * single spaces or dashes ("4111 1111 1111 1111", "4111-1111-1111-1111"), that pass the Luhn check. Every
 * run of consecutive groups is tried, so a card number next to other digits ("2025-01-15 4111...") is found.
 */
export function containsCardNumber(text: string): boolean {
  const groups: { digits: string; end: number; start: number }[] = [];
  for (const match of text.matchAll(/\d+/g)) groups.push({ digits: match[0], start: match.index, end: match.index + match[0].length });
  for (let first = 0; first < groups.length; first++) {
    let digits = "";
    for (let last = first; last < groups.length; last++) {
      const group = groups[last]!;
      if (last > first) {
        const gap = text.slice(groups[last - 1]!.end, group.start);
        if (gap !== " " && gap !== "-") break;
      }
      digits += group.digits;
      if (digits.length > MAX_PAN) break;
      if (digits.length >= MIN_PAN && luhn(digits)) return true;
    }
  }
  return false;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  // A card number sent as a JSON number: integers are spelled out in full (no exponent).
  if (typeof value === "number" && Number.isFinite(value)) return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  if (typeof value === "bigint") return value.toString();
  return undefined;
}

/** Every forbidden key or value anywhere in `value` (objects and arrays at any depth). */
export function findForbiddenData(value: unknown, path = ""): ForbiddenFinding[] {
  const findings: ForbiddenFinding[] = [];
  const visit = (node: unknown, at: string, depth: number) => {
    if (depth > 64) return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, at ? `${at}.${i}` : String(i), depth + 1));
      return;
    }
    if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        const keyIsCard = containsCardNumber(key);
        const childPath = `${at ? `${at}.` : ""}${keyIsCard ? "[redacted]" : key}`;
        if (keyIsCard) findings.push({ path: childPath, kind: "card_number" });
        else if (isCredentialKey(key)) findings.push({ path: childPath, kind: "credential_key" });
        visit(child, childPath, depth + 1);
      }
      return;
    }
    const text = scalarText(node);
    if (text !== undefined && containsCardNumber(text)) findings.push({ path: at || "(body)", kind: "card_number" });
  };
  visit(value, path, 0);
  return findings;
}

export class ForbiddenDataError extends DomainError {
  constructor(readonly findings: ForbiddenFinding[]) {
    super(
      "FORBIDDEN_DATA",
      `the request carries data a relay never stores (payment card numbers, passwords, tokens, credentials) at ${findings
        .map((f) => f.path)
        .join(", ")}; remove it and retry`,
      { violations: findings },
    );
  }
}

/** Throws FORBIDDEN_DATA (naming paths and kinds only) when `value` carries card data or credentials. */
export function assertNoForbiddenData(value: unknown): void {
  const findings = findForbiddenData(value);
  if (findings.length > 0) throw new ForbiddenDataError(findings);
}

/** `text` with every card-number-like run replaced, for summaries of what a supplier answered. */
export function redactCardNumbers(text: string): string {
  if (!containsCardNumber(text)) return text;
  return text.replace(/\d(?:[ -]?\d)*/g, (run) => (containsCardNumber(run) ? "[redacted]" : run));
}
