import type { z } from "zod";
import { type FieldIssue, ValidationError } from "./errors.js";
import { Id } from "./schema.js";

export interface ValidateOptions {
  /**
   * Where the input came from, prefixed to every issue path: `path.orderId` for a path parameter, `query` for the
   * query string, `header.Idempotency-Key` for a header. Default: the body (issue paths are its field names).
   */
  at?: string;
}

/** Zod's own messages start like this; anything else is a message written in a schema, kept as is. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized|Expected|Number must|String must|Array must)/;

type Issue = z.core.$ZodIssue;

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const typeNames: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  record: "an object",
  null: "null",
  bigint: "a whole number",
  date: "a date",
};

function sizeWords(origin: string, count: number): string {
  if (origin === "string") return `${count} character${count === 1 ? "" : "s"}`;
  if (origin === "array" || origin === "set") return `${count} item${count === 1 ? "" : "s"}`;
  if (origin === "object" || origin === "record" || origin === "map") return `${count} field${count === 1 ? "" : "s"}`;
  return String(count);
}

/** What a person reads for one zod issue; `value` is the input at the issue's path. */
export function plainMessage(issue: Issue, value: unknown): string {
  const custom = issue.message && !ZOD_DEFAULT.test(issue.message) ? issue.message : undefined;
  switch (issue.code) {
    case "invalid_type": {
      if (value === undefined) return "is required";
      const expected =
        issue.expected === "number" && (issue as { format?: string }).format?.includes("int") ? "int" : issue.expected;
      if (expected === "int" && typeof value === "number" && Number.isFinite(value)) return "must be a whole number";
      if (expected === "number" || expected === "int") return `must be ${typeNames[expected]}`;
      return `must be ${typeNames[expected] ?? expected}`;
    }
    case "too_small": {
      if (custom) return custom;
      const min = Number(issue.minimum);
      if (issue.origin === "string" && min === 1) return "must not be empty";
      if (issue.origin === "array" && min === 1) return "must have at least 1 item";
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint")
        return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
      return `must have at least ${sizeWords(issue.origin, min)}`;
    }
    case "too_big": {
      if (custom) return custom;
      const max = Number(issue.maximum);
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint")
        return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
      return `must have at most ${sizeWords(issue.origin, max)}`;
    }
    case "invalid_format":
      return (
        custom ??
        (issue.format === "regex"
          ? "has characters or a layout that is not allowed"
          : `must be a valid ${issue.format}`)
      );
    case "invalid_value":
      return (
        custom ??
        (issue.values.length === 1
          ? `must be ${JSON.stringify(issue.values[0])}`
          : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`)
      );
    case "not_multiple_of":
      return custom ?? `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_union":
      return custom ?? "does not match any of the accepted forms";
    case "invalid_key":
      return custom ?? "has a field name that is not allowed";
    case "invalid_element":
      return custom ?? "has an entry that is not allowed";
    case "unrecognized_keys":
      return "is not a known field";
    default:
      return custom ?? issue.message;
  }
}

/**
 * The cross-field rules (`.refine` / `.superRefine` on an object schema) that zod skips while any field is invalid,
 * run on the raw object anyway, so one answer names every problem: a `{}` checkout lists its missing fields and the
 * exactly-one-of rules together instead of in two rounds. A rule that cannot run on raw input is skipped.
 */
function skippedRootIssues(schema: z.ZodType, input: unknown): Issue[] {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return [];
  const def = (
    schema as unknown as {
      _zod: {
        def: {
          type?: string;
          checks?: {
            _zod: { def: { when?: unknown; error?: (issue: Issue) => unknown }; check: (payload: unknown) => unknown };
          }[];
        };
      };
    }
  )._zod.def;
  if (def.type !== "object" || !def.checks) return [];
  const found: Issue[] = [];
  for (const check of def.checks) {
    if (check._zod.def.when) continue;
    const payload = { value: input, issues: [] as Issue[] };
    try {
      const result = check._zod.check(payload);
      if (result instanceof Promise) continue;
      // zod resolves a rule's message only when it finishes a parse: without this, the rule's issue (already
      // reported when zod ran it) would come back a second time without a message.
      for (const issue of payload.issues) {
        if (issue.message) continue;
        const given = check._zod.def.error?.(issue);
        (issue as { message: string }).message =
          typeof given === "string" ? given : ((given as { message?: string } | undefined)?.message ?? "is not valid");
      }
      found.push(...payload.issues);
    } catch {
      // A rule written for parsed input met raw input it cannot read: the field issues already explain the body.
    }
  }
  return found;
}

function pathOf(prefix: string | undefined, path: PropertyKey[]): string {
  const own = path.map(String).join(".");
  if (!prefix) return own || "(body)";
  return own ? `${prefix}.${own}` : prefix;
}

/** The field issues of a failed parse, in plain words, each named where the caller sent it. */
export function issuesOf(
  schema: z.ZodType,
  error: z.ZodError,
  input: unknown,
  options: ValidateOptions = {},
): FieldIssue[] {
  const out: FieldIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path, message });
  };
  const all = [...error.issues, ...skippedRootIssues(schema, input)];
  const emptyAt = new Set(
    all.filter((i) => i.code === "too_small" && valueAt(input, i.path) === "").map((i) => i.path.join("\u0000")),
  );
  for (const issue of all) {
    // "must not be empty" says it all; the pattern an empty string also fails adds nothing.
    if (issue.code === "invalid_format" && emptyAt.has(issue.path.join("\u0000"))) continue;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add(pathOf(options.at, [...issue.path, key]), plainMessage(issue, undefined));
      continue;
    }
    add(pathOf(options.at, issue.path), plainMessage(issue, valueAt(input, issue.path)));
  }
  return out;
}

/** One line naming every issue, for the problem's `detail`. */
export function summaryOf(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}

/** Parses `input` with `schema`, turning zod issues into a ValidationError that names each field in plain words. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, options: ValidateOptions = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesOf(schema, result.error, input, options);
  throw new ValidationError(summaryOf(issues), issues);
}

/**
 * Re-reports a ValidationError raised on input taken from somewhere other than the body: every issue path gets
 * `at` in front (`query.limit`), so the caller knows where to look. Anything else is rethrown as is.
 */
export function relocate(error: unknown, at: string): never {
  if (!(error instanceof ValidationError)) throw error;
  const issues = error.issues.map((issue) => ({
    ...issue,
    path:
      issue.path === "(body)" || issue.path === ""
        ? at
        : issue.path.startsWith(`${at}.`) || issue.path === at
          ? issue.path
          : `${at}.${issue.path}`,
  }));
  throw new ValidationError(summaryOf(issues), issues);
}

/**
 * The named path parameters, each checked as an id and reported as `path.<name>` (a bad id in the URL is not a body
 * field). Every bad parameter is named at once.
 */
export function pathParams<K extends string>(
  params: Record<string, string | undefined>,
  ...names: K[]
): Record<K, string> {
  const issues: FieldIssue[] = [];
  const out = {} as Record<K, string>;
  for (const name of names) {
    const result = Id.safeParse(params[name] ?? "");
    if (result.success) out[name] = result.data;
    else issues.push(...issuesOf(Id, result.error, params[name], { at: `path.${name}` }));
  }
  if (issues.length > 0) throw new ValidationError(summaryOf(issues), issues);
  return out;
}
