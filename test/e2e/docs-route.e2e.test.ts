import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { startTestRuntime } from "../support/runtime.js";

// GET /docs: the API reference, rendered from /openapi.json by Swagger UI served out of node_modules.

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.stop());

describe("GET /docs", () => {
  it("answers an HTML page that loads only same-origin assets, each of which answers 200 with its content type", async () => {
    const response = await fetch(`${runtime.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toContain("Orderline API reference");
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => r.endsWith(".js"))).toEqual(["/docs/swagger-ui-bundle.js", "/docs/init.js"]);
    expect(refs).toContain("/docs/swagger-ui.css");
    for (const ref of refs) {
      expect(ref.startsWith("/"), `${ref} is same-origin`).toBe(true);
      const asset = await fetch(`${runtime.url}${ref}`);
      expect(asset.status, ref).toBe(200);
      const type = asset.headers.get("content-type") ?? "";
      if (ref.endsWith(".js")) expect(type).toMatch(/^text\/javascript/);
      if (ref.endsWith(".css")) expect(type).toMatch(/^text\/css/);
      if (ref.endsWith(".png")) expect(type).toBe("image/png");
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(0);
    }
  });

  it("points the viewer at /openapi.json, with the online validator off", async () => {
    const init = await (await fetch(`${runtime.url}/docs/init.js`)).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
    const bundle = await (await fetch(`${runtime.url}/docs/swagger-ui-bundle.js`)).text();
    expect(bundle).toContain("SwaggerUIBundle");
    expect((await fetch(`${runtime.url}/openapi.json`)).status).toBe(200);
  });

  it("serves nothing else under /docs: an unknown asset is the usual problem+json 404", async () => {
    const response = await fetch(`${runtime.url}/docs/../package.json`);
    expect(response.status).toBe(404);
    const other = await fetch(`${runtime.url}/docs/index.html`);
    expect(other.status).toBe(404);
    expect(other.headers.get("content-type")).toBe("application/problem+json");
  });
});
