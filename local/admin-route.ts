import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { problem } from "../functions/http/problem.js";
import type { LocalRoute } from "./gateway.js";

/** The admin console's source folder, served as is: the local runtime needs no build step. */
const ADMIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "admin");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Locally the page calls the runtime's own routes, unsigned (they have no IAM in front of them here). */
const LOCAL_CONFIG = JSON.stringify({ auth: "none" });

/** The page's own files only: the build script and the AWS-only sources stay private. */
const SERVED = /^[a-z0-9-]+\.(html|css|js|json|svg|png|ico)$/;
const PRIVATE = new Set(["build.mjs"]);

const HEADERS = {
  // Edited files show up on reload while developing.
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  // Same-origin only: the page loads nothing from elsewhere and may not be framed.
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

const notFound = () => ({ status: 404, body: problem("NOT_FOUND", "no such file in the admin console") });

/**
 * `GET /admin/`: the admin console (admin/). Only GET and HEAD of the page and of its files (one path segment with a
 * known extension) are answered here; every other `/admin/...` request (`POST /admin/relays/retry`) goes on to the
 * API routes. `/admin` redirects to `/admin/` so the page's relative URLs resolve as on the deployed site's root;
 * `/admin/config.json` tells the page to call the API unsigned.
 */
export const adminRoute: LocalRoute = async (req, url) => {
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  const { pathname } = url;
  if (pathname === "/admin")
    return {
      status: 308,
      headers: { location: `/admin/${url.search}` },
      raw: { contentType: "text/plain; charset=utf-8", data: "" },
    };
  if (!pathname.startsWith("/admin/")) return undefined;
  const name = pathname === "/admin/" ? "index.html" : pathname.slice("/admin/".length);
  if (name === "config.json")
    return { status: 200, headers: HEADERS, raw: { contentType: CONTENT_TYPES[".json"]!, data: LOCAL_CONFIG } };
  if (!SERVED.test(name)) return undefined;
  if (PRIVATE.has(name)) return notFound();
  try {
    const data = await readFile(path.join(ADMIN_DIR, name));
    return {
      status: 200,
      headers: HEADERS,
      raw: { contentType: CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream", data },
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return notFound();
    throw error;
  }
};
