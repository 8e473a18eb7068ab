import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { routes } from "../functions/routes.js";
import { END, routeTable, START } from "../scripts/api-routes.js";

const read = (path: string) => readFileSync(path, "utf8");

describe("docs", () => {
  it("docs/api.md lists every route of the route table, as generated (npx tsx scripts/api-routes.ts)", () => {
    const api = read("docs/api.md");
    const listed = api.slice(api.indexOf(START) + START.length, api.indexOf(END)).trim();
    expect(listed).toBe(routeTable());
    const rows = listed.split("\n").map((row) => row.split("|").map((cell) => cell.trim()));
    for (const route of routes)
      expect(rows.some((cells) => cells[1] === `\`${route.method}\`` && cells[2] === `\`${route.path}\``)).toBe(true);
  });

  it("the README's first screen says what it is, what it needs, the commands and where everything else is", () => {
    const readme = read("README.md");
    const firstScreen = readme.split("\n").slice(0, 40).join("\n");
    for (const text of [
      "Node 20+",
      "Java 17+",
      "npm install && npm run dev",
      "npm test",
      "npm run demo",
      "npm run supplier:demo",
      "/admin",
      "/docs",
    ])
      expect(firstScreen).toContain(text);
    for (const link of ["docs/api.md", "docs/operations.md", "docs/design.md"]) {
      expect(readme).toContain(`](${link})`);
      expect(existsSync(link), link).toBe(true);
    }
  });

  it("keeps the design and operations sections, capacity figures included", () => {
    const design = read("docs/design.md");
    for (const heading of [
      "## Single-table design",
      "## Hot SKUs: stock shards (built)",
      "## Events: the outbox and the saga hooks",
      "### DS-4.1 §9 checklist",
    ])
      expect(design).toContain(heading);
    const operations = read("docs/operations.md");
    for (const heading of [
      "## Deploying",
      "## Observability",
      "## Performance (measured)",
      "## Capacity (measured)",
      "### Local runtime settings",
    ])
      expect(operations).toContain(heading);
    for (const setting of ["PORT", "HOST", "ORDERLINE_LOCAL_PARTITION_WCU", "ORDERLINE_DATA_DIR"])
      expect(operations).toContain(`\`${setting}\``);
  });

  it("every relative link between the docs points at a file that exists", () => {
    for (const file of ["README.md", "docs/api.md", "docs/operations.md", "docs/design.md"]) {
      const dir = file.includes("/") ? "docs/" : "";
      for (const [, target] of read(file).matchAll(/\]\(([^)#:]+\.md)(#[^)]*)?\)/g))
        expect(existsSync(`${dir}${target}`), `${file} -> ${target}`).toBe(true);
    }
  });
});
