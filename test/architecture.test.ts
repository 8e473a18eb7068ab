import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every TypeScript source file under `dir` (tests excluded). */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join(dir, file));
}

const isStoreModule = (file: string) => file.startsWith("core/store/") || /^core\/[^/]+\/store[^/]*\.ts$/.test(file);

describe("architecture (the import rules are dependency-cruiser's, in npm run lint)", () => {
  it("writes DynamoDB expressions only in the store modules: the domain decides, the store writes", () => {
    // Expression parameters, and the condition functions that only appear inside expressions.
    const expression =
      /\b(Condition|Update|KeyCondition|Filter|Projection)Expression\b|ExpressionAttribute(Names|Values)\b|\b(attribute_exists|attribute_not_exists|if_not_exists|list_append)\(/;
    const outside = sources("core").filter(
      (file) => !isStoreModule(file) && expression.test(readFileSync(file, "utf8")),
    );
    expect(outside).toEqual([]);
    // The rule matches real files: the store modules do hold expressions.
    expect(
      sources("core").filter((file) => isStoreModule(file) && expression.test(readFileSync(file, "utf8"))).length,
    ).toBeGreaterThan(3);
  });

  it("calls suppliers over HTTP from one module only (core/relay/supplier-call.ts)", () => {
    const callers = sources("core").filter((file) => /\bfetch\(/.test(readFileSync(file, "utf8")));
    expect(callers).toEqual(["core/relay/supplier-call.ts"]);
  });

  it("reads the environment in core/config.ts only: every setting is parsed and checked once", () => {
    const readers = [...sources("core"), ...sources("functions")].filter((file) =>
      /process\.env\b/.test(readFileSync(file, "utf8")),
    );
    expect(readers).toEqual(["core/config.ts"]);
  });
});
