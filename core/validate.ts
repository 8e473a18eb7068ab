import type { z } from "zod";
import { ValidationError } from "./errors.js";

/** Parses `input` with `schema`, turning zod issues into a ValidationError that names each field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const keys = "keys" in issue && Array.isArray(issue.keys) ? issue.keys.join(", ") : "";
    return { path: keys && !path ? keys : path || "(body)", message: issue.message };
  });
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  throw new ValidationError(summary, issues);
}
