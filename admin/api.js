/**
 * How the page reaches the Orderline API. `config.json` decides:
 * - `{ "auth": "none" }` (the local runtime): plain same-origin requests; nothing AWS is loaded.
 * - `{ "auth": "cognito", ... }` (the deployed site): the admin signs in to the admin user pool, the identity pool
 *   exchanges that for temporary credentials, and each request is SigV4-signed (aws-signer.js, bundled at build time).
 */

/** @typedef {{ auth: "none" } | { auth: "cognito", region: string, userPoolId: string, userPoolClientId: string, identityPoolId: string, apiUrl: string }} Config */

/** @type {Config} */
let config = { auth: "none" };
/** @type {((path: string, init: RequestInit) => Promise<Response>) | undefined} */
let signedFetch;

export class ApiError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    const code = problem?.code ? ` ${problem.code}` : "";
    super(`${status}${code}: ${problem?.detail ?? problem?.title ?? "request failed"}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Raised when the signed-in session can no longer get credentials: the page asks the admin to sign in again. */
export class SessionExpired extends Error {}

export async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  // No config.json (a plain static server on the source folder): the same-origin local mode.
  config = response.ok ? await response.json() : { auth: "none" };
  return config;
}

export const needsSignIn = () => config.auth === "cognito" && !signedFetch;

/**
 * @param {{ username: string, password: string, newPassword?: string }} input
 * @returns {Promise<{ user: string } | { challenge: "NEW_PASSWORD_REQUIRED" }>}
 */
export async function signIn(input) {
  if (config.auth !== "cognito") return { user: "local" };
  // Only present in the built site (admin/build.mjs); a variable specifier keeps dev tooling from resolving it.
  const module = "./aws-signer.js";
  const aws = await import(module);
  const result = await aws.signIn(config, input);
  if ("challenge" in result) return result;
  signedFetch = result.fetch;
  return { user: result.user };
}

export function signOut() {
  signedFetch = undefined;
}

/**
 * One API call: JSON in and out; a 4xx/5xx problem+json answer becomes an ApiError.
 * @param {string} method @param {string} path @param {unknown} [body]
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  // On the local runtime the audit actor comes from this header; in AWS it is the signed-in IAM identity.
  if (config.auth === "none") headers["x-actor"] = "admin-console";
  /** @type {RequestInit} */
  const init = { method, headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  if (config.auth === "cognito") {
    if (!signedFetch) throw new SessionExpired("sign in first");
    try {
      response = await signedFetch(path, init);
    } catch (error) {
      if (error instanceof Error && error.name === "SessionExpired") {
        signedFetch = undefined;
        throw new SessionExpired(error.message);
      }
      throw error;
    }
  } else {
    response = await fetch(path, init);
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
