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
 * Group lengths in which payment cards are printed: 4-4-4-4 (16), 4-4-4-4-1..3 (17 to 19), 4-6-5 (Amex, 15),
 * 4-6-4 (Diners, 14) and 4-4-4-1 (13).
 */
const CARD_LAYOUTS: readonly (readonly number[])[] = [
  [4, 4, 4, 4],
  [4, 4, 4, 4, 1],
  [4, 4, 4, 4, 2],
  [4, 4, 4, 4, 3],
  [4, 6, 5],
  [4, 6, 4],
  [4, 4, 4, 1],
];
const CARD_SEPARATORS = [" ", "-", "."] as const;

interface DigitRun {
  digits: string;
  start: number;
  end: number;
}

/** Whether the digit run starting at `start` is the fractional part of a decimal number ("37.5665355123451"). */
function isFraction(text: string, start: number): boolean {
  return start >= 2 && text[start - 1] === "." && /\d/.test(text[start - 2]!);
}

/**
 * Where `text` holds payment card numbers, as `[start, end)` spans: a single unbroken run of 13 to 19 digits, or
 * consecutive digit groups in one of the printed card layouts joined by ONE consistent separator (a single space,
 * dash or dot throughout: "4111 1111 1111 1111", "4111-1111-1111-1111", "4111.1111.1111.1111", "3782 822463 10005");
 * either must pass the Luhn check. Digits joined otherwise (a date next to a phone number, a postcode next to a phone
 * number, mixed or doubled separators, a 20-digit run) are not a card number, and neither are the decimals of a
 * number such as a coordinate ("37.5665355123451": a tenth of all 13-digit fractions pass the Luhn check).
 */
export function cardNumberSpans(text: string): [number, number][] {
  const runs: DigitRun[] = [];
  for (const match of text.matchAll(/\d+/g))
    runs.push({ digits: match[0], start: match.index, end: match.index + match[0].length });
  const spans: [number, number][] = [];
  for (const run of runs)
    if (
      run.digits.length >= MIN_PAN &&
      run.digits.length <= MAX_PAN &&
      !isFraction(text, run.start) &&
      luhn(run.digits)
    )
      spans.push([run.start, run.end]);
  for (const separator of CARD_SEPARATORS) {
    for (let first = 0; first < runs.length; first++) {
      layouts: for (const layout of CARD_LAYOUTS) {
        if (first + layout.length > runs.length) continue;
        let digits = "";
        for (let i = 0; i < layout.length; i++) {
          const run = runs[first + i]!;
          if (run.digits.length !== layout[i]) continue layouts;
          if (i > 0 && text.slice(runs[first + i - 1]!.end, run.start) !== separator) continue layouts;
          digits += run.digits;
        }
        if (luhn(digits)) spans.push([runs[first]!.start, runs[first + layout.length - 1]!.end]);
      }
    }
  }
  return spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
}

/** Whether `text` contains a payment card number (see {@link cardNumberSpans} for what counts as one). */
export function containsCardNumber(text: string): boolean {
  return cardNumberSpans(text).length > 0;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  // A card number sent as a JSON number is an integer, spelled out in full (no exponent); a number with a
  // fractional part (a coordinate, an amount) is never one.
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value).toString() : undefined;
  if (typeof value === "bigint") return value.toString();
  return undefined;
}

/** Every forbidden key or value anywhere in `value` (objects and arrays at any depth). */
export function findForbiddenData(value: unknown, path = ""): ForbiddenFinding[] {
  const findings: ForbiddenFinding[] = [];
  const visit = (node: unknown, at: string, depth: number) => {
    if (depth > 64) return;
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) visit(child, at ? `${at}.${i}` : String(i), depth + 1);
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

/** `text` with every card number replaced by `[redacted]`, for summaries of what a supplier answered. */
export function redactCardNumbers(text: string): string {
  let out = "";
  let at = 0;
  for (const [start, end] of cardNumberSpans(text)) {
    if (start < at)
      at = Math.max(at, end); // overlaps the span just redacted
    else {
      out += `${text.slice(at, start)}[redacted]`;
      at = end;
    }
  }
  return out + text.slice(at);
}
