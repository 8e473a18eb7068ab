import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { routeGroups, routeKey, routes } from "./routes.js";

describe("route table", () => {
  it("has an implementation for every route and no implementation without a route", async () => {
    for (const [group, { handler }] of Object.entries(routeGroups)) {
      const file = handler.replace(/\.[^.]+$/, "");
      const mod = (await import(pathToFileURL(`${process.cwd()}/${file}.ts`).href)) as {
        routes: Record<string, unknown>;
        handler: unknown;
      };
      expect(typeof mod.handler).toBe("function");
      const declared = routes
        .filter((r) => r.group === group)
        .map(routeKey)
        .sort();
      expect(Object.keys(mod.routes).sort(), group).toEqual(declared);
    }
  });

  it("puts IAM auth on every internal and admin route, nothing public outside /api/v1, and signature auth only on supplier webhooks", () => {
    for (const route of routes) {
      const internal = route.path.startsWith("/internal/") || route.path.startsWith("/admin/");
      const webhook = route.path.startsWith("/webhooks/");
      expect(route.auth, routeKey(route)).toBe(internal ? "iam" : webhook ? "signature" : "public");
      if (route.auth === "public") expect(route.path.startsWith("/api/v1/")).toBe(true);
    }
  });
});
