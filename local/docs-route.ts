import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LocalRoute } from "./gateway.js";

/**
 * `GET /docs` on the local runtime: the OpenAPI document (`/openapi.json`) rendered by Swagger UI, served from the
 * `swagger-ui-dist` package in node_modules. The page loads nothing from the network (its Content-Security-Policy
 * allows this origin only; the online spec validator badge is off), so it works offline.
 */
const require = createRequire(import.meta.url);
const distDir = () => dirname(require.resolve("swagger-ui-dist/package.json"));

const assets: Record<string, { file: string; contentType: string }> = {
  "swagger-ui.css": { file: "swagger-ui.css", contentType: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", contentType: "text/javascript; charset=utf-8" },
  "favicon-32x32.png": { file: "favicon-32x32.png", contentType: "image/png" },
  "favicon-16x16.png": { file: "favicon-16x16.png", contentType: "image/png" },
};

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Orderline API reference</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <main id="swagger-ui"></main>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// An external script rather than an inline one, so the page's CSP needs no 'unsafe-inline' for scripts.
const init = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:",
  "x-content-type-options": "nosniff",
};

const cache = new Map<string, Buffer>();

async function asset(name: string): Promise<Buffer> {
  let data = cache.get(name);
  if (!data) {
    data = await readFile(join(distDir(), assets[name]!.file));
    cache.set(name, data);
  }
  return data;
}

export const docsRoute: LocalRoute = async (req, url) => {
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  const path = url.pathname;
  if (path === "/docs" || path === "/docs/")
    return {
      status: 200,
      raw: { contentType: "text/html; charset=utf-8", data: page },
      headers: { ...securityHeaders, "cache-control": "no-cache" },
    };
  if (path === "/docs/init.js")
    return {
      status: 200,
      raw: { contentType: "text/javascript; charset=utf-8", data: init },
      headers: securityHeaders,
    };
  if (!path.startsWith("/docs/")) return undefined;
  const name = path.slice("/docs/".length);
  if (!Object.hasOwn(assets, name)) return undefined;
  return {
    status: 200,
    raw: { contentType: assets[name]!.contentType, data: await asset(name) },
    headers: { ...securityHeaders, "cache-control": "public, max-age=3600" },
  };
};
