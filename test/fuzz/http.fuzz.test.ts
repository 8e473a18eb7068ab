import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Route, routeKey, routes } from "../../functions/routes.js";
import type { LocalRuntime } from "../../local/runtime.js";
import { type FakeSupplier, startSupplier } from "../relay/supplier.js";
import { scanTable } from "../support/fixtures.js";
import { client, startTestRuntime } from "../support/runtime.js";
import { examples, fixtures } from "./examples.js";

let runtime: LocalRuntime;
let orderId = "";
let relayId = "";
let supplier: FakeSupplier;
let tried = 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values that break types and limits: wrong types, huge and odd strings, deep nesting. */
const hostile: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    -1,
    0,
    1.5,
    1e300,
    -0,
    "",
    " ",
    "💥🧨",
    "\u0000",
    "\ud800",
    "a".repeat(5000),
    "<script>",
    "' OR 1=1 --",
    "#",
    "ORDER#x",
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constant<Json>(JSON.parse("[".repeat(200) + "]".repeat(200)) as Json),
  fc.constant<Json>({ nested: { deeper: { deepest: [1, { x: "y" }] } } }),
);

type Mutation =
  | { kind: "drop"; path: number }
  | { kind: "replace"; path: number; value: Json }
  | { kind: "extra"; key: string; value: Json }
  | { kind: "whole"; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), path: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), path: fc.nat(), value: hostile }),
  fc.record({ kind: fc.constant("extra" as const), key: fc.string({ minLength: 1, maxLength: 12 }), value: hostile }),
  fc.record({ kind: fc.constant("whole" as const), value: hostile }),
);

/** Cursors that decode to key-like objects: the attributes of the table's keys, values that look like real keys. */
const keyLike = fc.dictionary(
  fc.constantFrom("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "entity"),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer(),
    fc.constantFrom(
      "ORDER#x",
      "USER#fz-user",
      "EVENT#00000001",
      "LISTING#fz-lst",
      "RELAY_STATUS#pending",
      "AUDIT#",
      "",
    ),
  ),
  { maxKeys: 6 },
);
const cursor = fc.oneof(
  keyLike.map((key) => Buffer.from(JSON.stringify(key)).toString("base64url")),
  fc.string({ maxLength: 60 }),
  fc.constantFrom("", "e30", "bnVsbA", "W10"),
);

/** Query strings built from the route's own parameters (limit, cursor, filters) with hostile values. */
const queryMutation = fc.record(
  {
    limit: fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), fc.string({ maxLength: 8 })),
    cursor,
    status: fc.oneof(fc.constantFrom("pending", "relayed", "PAID"), fc.string({ maxLength: 10 })),
    listingId: fc.oneof(fc.constant("fz-lst"), fc.string({ maxLength: 20 })),
    userId: fc.oneof(fc.constant("fz-user"), fc.string({ maxLength: 20 })),
  },
  { requiredKeys: [] },
);

/** Every path to a value inside a JSON document, depth first. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(body: unknown, m: Mutation): unknown {
  if (m.kind === "whole") return m.value;
  const copy = structuredClone(body ?? {}) as Record<string, unknown>;
  if (m.kind === "extra") {
    if (copy && typeof copy === "object" && !Array.isArray(copy)) copy[`x_${m.key}`] = m.value;
    return copy;
  }
  const all = paths(copy).filter((p) => p.length > 0);
  if (all.length === 0) return m.kind === "replace" ? m.value : copy;
  const path = all[m.path % all.length]!;
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path.at(-1)!;
  if (m.kind === "drop") Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
  else parent[last] = m.value;
  return copy;
}

/** Ids created in beforeAll stand in for the examples' placeholders. */
function placeholders(text: string): string {
  return text.replace("ORDER_ID", orderId).replace("RELAY_ID", relayId).replace("SUPPLIER_URL", supplier.url);
}

function url(route: Route, params: Record<string, string>, query: Record<string, string>): string {
  const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(placeholders(params[name] ?? "")),
  );
  const search = new URLSearchParams(query).toString();
  return `${path}${search ? `?${search}` : ""}`;
}

async function send(method: string, path: string, body: string | undefined, contentType = "application/json") {
  tried++;
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": contentType },
    body,
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type"), body: text };
}

function expectWellFormed(result: { status: number; contentType: string | null; body: string }, label: string) {
  expect(result.status, label).toBeLessThan(500);
  if (result.status >= 400) {
    expect(result.contentType, label).toBe("application/problem+json");
    const problem = JSON.parse(result.body) as { code?: string; status?: number };
    expect(problem.code, label).toMatch(/^[A-Z_]+$/);
    expect(problem.status, label).toBe(result.status);
  }
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const call = client(runtime.url);
  await call("PUT", `/internal/offers/${fixtures.sku.skuId}`, {
    offerId: fixtures.sku.offerId,
    unitPrice: fixtures.sku.unitPrice,
    currency: "KRW",
  });
  await call("PUT", `/internal/inventory/${fixtures.sku.skuId}`, { onHand: 1_000_000 });
  orderId = (
    await call("POST", "/api/v1/orders", {
      ...(examples["POST /api/v1/orders"]!.body as object),
      idempotencyKey: "fz-seed",
    })
  ).body.orderId;
  supplier = await startSupplier();
  await call("PUT", "/internal/suppliers/fz-sup", { name: "Fuzz supplier", endpointUrl: supplier.url });
  await call("PUT", "/internal/listings/fz-lst", examples["PUT /internal/listings/{listingId}"]!.body);
  relayId = (
    await call("POST", "/internal/relays", {
      ...(examples["POST /internal/relays"]!.body as object),
      externalOrderId: "fz-seed",
    })
  ).body.relayId;
  await settle();
});

/** Waits until the asynchronous work a successful request started (stream -> bus -> dispatcher) is done. */
async function settle(): Promise<void> {
  await runtime.poller.drained();
  await runtime.bus.idle();
  await runtime.poller.drained();
}

afterAll(async () => {
  console.log(`HTTP fuzzing: ${tried} requests tried`);
  await runtime.stop();
  await supplier.stop();
});

describe("schema-driven HTTP fuzzing through the local gateway", () => {
  it("has an example for every route", () => {
    expect(routes.map(routeKey).filter((key) => !examples[key])).toEqual([]);
  });

  it("regressions found by fuzzing: numbers DynamoDB cannot store and deep nesting are 400s", async () => {
    const relay = examples["POST /internal/relays"]!.body as Record<string, unknown>;
    const tiny = await send(
      "POST",
      "/internal/relays",
      JSON.stringify({ ...relay, externalOrderId: "fz-tiny", customerInfo: { name: 5e-324 } }),
    );
    expect(tiny.status).toBe(400);
    const deep = JSON.parse(`${'{"a":'.repeat(40)}1${"}".repeat(40)}`) as unknown;
    const nested = await send(
      "POST",
      `/internal/orders/${orderId}/events`,
      JSON.stringify({ type: "PAYMENT_SUCCEEDED", payload: deep }),
    );
    expect(nested.status).toBe(400);
    const huge = await send(
      "POST",
      `/internal/orders/${orderId}/events`,
      JSON.stringify({ type: "PAYMENT_SUCCEEDED", payload: { amount: 1e300 } }),
    );
    expect(huge.status).toBe(400);
    const unsafe = await send(
      "POST",
      "/internal/relays",
      JSON.stringify({ ...relay, externalOrderId: "fz-unsafe", metadata: { source: "erp", n: -9007199254740992 } }),
    );
    expect(unsafe.status).toBe(400);
  });

  for (const route of routes) {
    const key = routeKey(route);
    it(`${key}: never 5xx, every 4xx is problem+json, a rejected request writes nothing`, async () => {
      const example = examples[key];
      if (!example) throw new Error(`no example for ${key}`);
      // The scheduled expiry job's lease comes and goes on its own timer: not something a request wrote.
      const tableState = async () => JSON.stringify((await scanTable()).filter((item) => item.entity !== "JobLease"));
      let snapshot = await tableState();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { weight: route.method === "GET" ? 1 : 6, arbitrary: mutation.map((m) => ({ kind: "body" as const, m })) },
            {
              weight: route.method === "GET" ? 6 : 1,
              arbitrary: queryMutation.map((q) => ({ kind: "query" as const, q })),
            },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom("empty", "not-json", "text/plain", "query-junk", "param-junk")
                .map((k) => ({ kind: k })),
            },
          ),
          async (variant) => {
            let body = example.body === undefined ? undefined : placeholders(JSON.stringify(example.body));
            let contentType = "application/json";
            const params = { ...example.params };
            const query = { ...example.query };
            if (variant.kind === "body") body = placeholders(JSON.stringify(mutate(example.body, variant.m)));
            if (variant.kind === "query") Object.assign(query, variant.q);
            if (variant.kind === "empty") body = "";
            if (variant.kind === "not-json") body = '{"a":';
            if (variant.kind === "text/plain") contentType = "text/plain";
            if (variant.kind === "query-junk") Object.assign(query, { limit: "-3", cursor: "%%%", extra: "1" });
            if (variant.kind === "param-junk")
              for (const name of Object.keys(params)) params[name] = "ü/#?%00".repeat(3);
            const result = await send(
              route.method,
              url(route, params, query),
              route.method === "GET" ? undefined : body,
              contentType,
            );
            const label = `${key} ${JSON.stringify(variant).slice(0, 200)} -> ${result.status} ${result.body.slice(0, 200)}`;
            expectWellFormed(result, label);
            if (result.status < 400 && route.method !== "GET") await settle();
            const after = await tableState();
            if (result.status >= 400) expect(after, label).toBe(snapshot);
            snapshot = after;
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
