import { ulid } from "ulid";
import { expect, inject } from "vitest";
import { setDb } from "../../core/store/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import { assertResponseConforms } from "./openapi-responses.js";

/** The local runtime on a free port, on its own table in the shared DynamoDB Local. */
export async function startTestRuntime(): Promise<LocalRuntime> {
  setDb(undefined);
  return startLocalRuntime({
    port: 0,
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `e2e-${ulid().toLowerCase()}`,
  });
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small fetch wrapper for tests: JSON in, JSON out. */
export function client(baseUrl: string) {
  return async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<T>> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    // Every answer is checked against the OpenAPI document, so the document cannot drift from the server.
    assertResponseConforms(method, path, response.status, response.headers.get("content-type"), parsed);
    return { status: response.status, headers: response.headers, body: parsed };
  };
}

/** A 4xx/5xx answer in the contract's shape: problem+json with type, title, status, detail, code, and no stack. */
export function expectProblem(response: JsonResponse, status: number, code: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.body).toMatchObject({ status, code });
  expect(typeof response.body.type).toBe("string");
  expect(typeof response.body.title).toBe("string");
  expect(typeof response.body.detail).toBe("string");
  expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at /);
}
