/**
 * EventBridge event-pattern matching for the local bus (and the stream poller's event-source filter).
 *
 * Semantics follow the EventBridge user guide ("Content filtering in Amazon EventBridge event patterns",
 * "Arrays in event patterns", "Matching null values and empty strings") and AWS's reference matcher (event-ruler):
 * - keys of a pattern object are ANDed; the values in a pattern array are ORed; `$or` ORs whole sub-patterns;
 * - a pattern array only matches leaf values (string, number, boolean, null); an event array matches when any of
 *   its elements matches, an object is never a leaf (so `exists: false` matches a field holding an object);
 * - `exists: true` needs at least one leaf value at the path (null counts), `exists: false` needs none;
 * - exact numbers compare numerically (`300` matches `3.0e2`); a string never equals a number;
 * - `anything-but` needs a present leaf value; values of another type than the excluded ones always pass it.
 *
 * Patterns are validated when compiled: an unknown operator or a malformed operand throws
 * {@link InvalidEventPatternError}, like PutRule does, instead of silently never matching.
 */

export class InvalidEventPatternError extends Error {
  override name = "InvalidEventPatternError";
}

type Leaf = string | number | boolean | null;
type LeafTest = (leaf: Leaf) => boolean;
/** A compiled matcher for one pattern array: takes every leaf value found at the path. */
type FieldTest = (leaves: Leaf[]) => boolean;
type ObjectTest = (value: unknown) => boolean;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new InvalidEventPatternError(`${path || "pattern"}: ${message}`);
}

/** Every leaf value at a path: arrays are flattened, objects are not leaves. */
function leavesOf(value: unknown, out: Leaf[] = []): Leaf[] {
  if (value === undefined || isPlainObject(value)) return out;
  if (Array.isArray(value)) {
    for (const element of value) leavesOf(element, out);
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null)
    out.push(value);
  return out;
}

function ignoreCase(s: string): string {
  return s.toLowerCase();
}

/** `*` matches any run of characters, `\*` a literal star; two consecutive stars are rejected like EventBridge does. */
function wildcard(path: string, operand: unknown): RegExp {
  if (typeof operand !== "string") fail(path, "wildcard needs a string");
  if (/(^|[^\\])\*\*/.test(operand)) fail(path, "wildcard may not contain consecutive '*'");
  let source = "";
  for (let i = 0; i < operand.length; i++) {
    const c = operand[i]!;
    if (c === "\\" && (operand[i + 1] === "*" || operand[i + 1] === "\\")) {
      source += `\\${operand[++i]}`;
    } else if (c === "*") {
      source += ".*";
    } else {
      source += c.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s");
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

function cidr(path: string, operand: unknown): LeafTest {
  if (typeof operand !== "string") fail(path, "cidr needs a string");
  const [address, bitsText] = operand.split("/");
  const base = ipv4(address ?? "");
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    fail(
      path,
      `cidr ${JSON.stringify(operand)} is not an IPv4 CIDR block (IPv6 is not supported by the local matcher)`,
    );
  }
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return (leaf) => {
    if (typeof leaf !== "string") return false;
    const n = ipv4(leaf);
    return n !== undefined && n >= start && n < start + size;
  };
}

const lower = new Set([">", ">="]);
const upper = new Set(["<", "<="]);

function numeric(path: string, operand: unknown): LeafTest {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4))
    fail(path, "numeric needs [op, n] or [op, n, op, n]");
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof bound !== "number" || !Number.isFinite(bound))
      fail(path, `numeric bound ${JSON.stringify(bound)} is not a number`);
    switch (op) {
      case "=":
        tests.push((n) => n === bound);
        break;
      case "<":
        tests.push((n) => n < bound);
        break;
      case "<=":
        tests.push((n) => n <= bound);
        break;
      case ">":
        tests.push((n) => n > bound);
        break;
      case ">=":
        tests.push((n) => n >= bound);
        break;
      default:
        fail(path, `unknown numeric operator ${JSON.stringify(op)}`);
    }
  }
  if (operand.length === 4) {
    // A range: a lower bound first, then an upper bound ("=" only stands alone).
    if (!lower.has(operand[0] as string) || !upper.has(operand[2] as string))
      fail(path, 'a numeric range is [">"|">=", low, "<"|"<=", high]');
    if ((operand[1] as number) >= (operand[3] as number)) fail(path, "a numeric range needs low < high");
  }
  return (leaf) => typeof leaf === "number" && tests.every((t) => t(leaf));
}

/** `prefix` / `suffix` operand: a string, or `{ "equals-ignore-case": string }`. */
function affix(path: string, kind: "prefix" | "suffix", operand: unknown): (s: string) => boolean {
  let text: string;
  let folded = false;
  if (typeof operand === "string") {
    text = operand;
  } else if (
    isPlainObject(operand) &&
    Object.keys(operand).length === 1 &&
    typeof operand["equals-ignore-case"] === "string"
  ) {
    text = ignoreCase(operand["equals-ignore-case"]);
    folded = true;
  } else {
    fail(path, `${kind} needs a string or { "equals-ignore-case": string }`);
  }
  const test = kind === "prefix" ? (s: string) => s.startsWith(text) : (s: string) => s.endsWith(text);
  return folded ? (s) => test(ignoreCase(s)) : test;
}

function sameScalar(a: Leaf, b: Leaf): boolean {
  return a === b; // numbers are JS numbers, so 300 === 3.0e2; "5" !== 5
}

function anythingBut(path: string, operand: unknown): LeafTest {
  if (typeof operand === "string" || typeof operand === "number") return (leaf) => !sameScalar(leaf, operand);
  if (Array.isArray(operand)) {
    if (operand.length === 0) fail(path, "anything-but needs a non-empty list");
    const allStrings = operand.every((v) => typeof v === "string");
    const allNumbers = operand.every((v) => typeof v === "number");
    if (!allStrings && !allNumbers) fail(path, "an anything-but list holds only strings or only numbers");
    const excluded = operand as (string | number)[];
    return (leaf) => !excluded.some((v) => sameScalar(leaf, v));
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) fail(path, "anything-but takes one nested operator");
    const key = keys[0]!;
    const inner = operand[key];
    let excludedString: (s: string) => boolean;
    switch (key) {
      case "prefix":
      case "suffix":
        if (
          typeof inner !== "string" &&
          !(Array.isArray(inner) && inner.length > 0 && inner.every((v) => typeof v === "string"))
        ) {
          fail(path, `anything-but ${key} needs a string or a list of strings`);
        }
        if ((Array.isArray(inner) ? inner : [inner]).some((v) => v === ""))
          fail(path, `anything-but ${key} may not be empty`);
        excludedString = (s) =>
          (Array.isArray(inner) ? (inner as string[]) : [inner as string]).some((t) =>
            key === "prefix" ? s.startsWith(t) : s.endsWith(t),
          );
        break;
      case "equals-ignore-case": {
        const list = Array.isArray(inner) ? inner : [inner];
        if (list.length === 0 || !list.every((v) => typeof v === "string"))
          fail(path, "anything-but equals-ignore-case needs a string or a list of strings");
        const folded = new Set((list as string[]).map(ignoreCase));
        excludedString = (s) => folded.has(ignoreCase(s));
        break;
      }
      case "wildcard": {
        const list = Array.isArray(inner) ? inner : [inner];
        if (list.length === 0) fail(path, "anything-but wildcard needs a string or a list of strings");
        const regexes = list.map((w) => wildcard(path, w));
        excludedString = (s) => regexes.some((r) => r.test(s));
        break;
      }
      default:
        fail(path, `anything-but does not take ${JSON.stringify(key)}`);
    }
    // Only strings can be excluded by a string operator; every other leaf passes.
    return (leaf) => typeof leaf !== "string" || !excludedString(leaf);
  }
  fail(
    path,
    "anything-but needs a string, a number, a list of either, or a nested prefix/suffix/equals-ignore-case/wildcard",
  );
}

function compileMatcher(path: string, matcher: unknown): FieldTest {
  if (matcher === null || typeof matcher === "string" || typeof matcher === "number" || typeof matcher === "boolean") {
    return (leaves) => leaves.some((leaf) => sameScalar(leaf, matcher));
  }
  if (!isPlainObject(matcher)) fail(path, `${JSON.stringify(matcher)} is not a value or an operator object`);
  const keys = Object.keys(matcher);
  if (keys.length !== 1) fail(path, `an operator object has exactly one key, got ${JSON.stringify(keys)}`);
  const op = keys[0]!;
  const operand = matcher[op];
  const any =
    (test: LeafTest): FieldTest =>
    (leaves) =>
      leaves.some(test);
  switch (op) {
    case "exists":
      if (typeof operand !== "boolean") fail(path, "exists needs true or false");
      return operand ? (leaves) => leaves.length > 0 : (leaves) => leaves.length === 0;
    case "prefix":
    case "suffix": {
      const test = affix(path, op, operand);
      return any((leaf) => typeof leaf === "string" && test(leaf));
    }
    case "equals-ignore-case": {
      if (typeof operand !== "string") fail(path, "equals-ignore-case needs a string");
      const folded = ignoreCase(operand);
      return any((leaf) => typeof leaf === "string" && ignoreCase(leaf) === folded);
    }
    case "anything-but":
      return any(anythingBut(path, operand));
    case "numeric":
      return any(numeric(path, operand));
    case "wildcard": {
      const regex = wildcard(path, operand);
      return any((leaf) => typeof leaf === "string" && regex.test(leaf));
    }
    case "cidr":
      return any(cidr(path, operand));
    default:
      fail(path, `unknown operator ${JSON.stringify(op)}`);
  }
}

function compileField(path: string, matchers: unknown[]): ObjectTest {
  if (matchers.length === 0) fail(path, "a pattern array may not be empty");
  const tests = matchers.map((m) => compileMatcher(path, m));
  return (value) => {
    const leaves = leavesOf(value);
    return tests.some((t) => t(leaves));
  };
}

function compileObject(path: string, pattern: Record<string, unknown>): ObjectTest {
  const tests: ObjectTest[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === "$or") {
      if (!Array.isArray(sub) || sub.length < 2) fail(here, "$or needs an array of at least two patterns");
      const branches = sub.map((branch, i) => {
        if (!isPlainObject(branch)) fail(`${here}[${i}]`, "each $or branch is a pattern object");
        return compileObject(path, branch);
      });
      tests.push((value) => branches.some((b) => b(value)));
    } else if (Array.isArray(sub)) {
      const test = compileField(here, sub);
      tests.push((value) => test(fieldOf(value, key)));
    } else if (isPlainObject(sub)) {
      const test = compileObject(here, sub);
      tests.push((value) => test(fieldOf(value, key)));
    } else {
      fail(here, "a pattern field is an array of matchers or a nested pattern object");
    }
  }
  return (value) => {
    // An event array holding objects matches when one of its elements matches the whole sub-pattern.
    if (Array.isArray(value) && value.length > 0) return value.some((element) => tests.every((t) => t(element)));
    return tests.every((t) => t(value));
  };
}

function fieldOf(value: unknown, key: string): unknown {
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

export type CompiledPattern = (event: unknown) => boolean;

/** Validates a pattern and returns its matcher. Throws {@link InvalidEventPatternError} on a malformed pattern. */
export function compilePattern(pattern: unknown): CompiledPattern {
  if (!isPlainObject(pattern)) fail("", "an event pattern is a JSON object");
  return compileObject("", pattern);
}

const cache = new WeakMap<object, CompiledPattern>();

/** True when `event` matches the EventBridge event `pattern`. */
export function matches(pattern: Record<string, unknown>, event: unknown): boolean {
  let compiled = cache.get(pattern);
  if (!compiled) {
    compiled = compilePattern(pattern);
    cache.set(pattern, compiled);
  }
  return compiled(event);
}
