import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { DomainError } from "../../core/errors.js";
import { withEnv } from "../../test/support/env.js";
import { logger, metrics } from "../powertools.js";
import { type ObservedRoute, routeRequest } from "./api.js";

function event(routeKey: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey,
    rawPath: "/x",
    rawQueryString: "",
    headers: {},
    isBase64Encoded: false,
    requestContext: { requestId: "gw-req-1" } as APIGatewayProxyEventV2["requestContext"],
    ...extra,
  };
}

describe("HTTP routing", () => {
  it("turns an unexpected error into a bare 500 with the request id, logged with its cause", async () => {
    const logged = vi.spyOn(logger, "error").mockImplementation(() => undefined);
    const response = await routeRequest(
      {
        "GET /boom": async () => {
          throw new Error("secret internal detail");
        },
      },
      event("GET /boom"),
    );
    expect(response.statusCode).toBe(500);
    expect(response.headers?.["content-type"]).toBe("application/problem+json");
    expect(response.headers?.["x-request-id"]).toBe("gw-req-1");
    const body = JSON.parse(String(response.body));
    expect(body).toMatchObject({ status: 500, code: "INTERNAL", requestId: "gw-req-1" });
    expect(String(response.body)).not.toContain("secret internal detail");
    expect(String(response.body)).not.toContain("at ");
    expect(logged).toHaveBeenCalledWith("unexpected error", expect.objectContaining({ request_id: "gw-req-1" }));
    logged.mockRestore();
  });

  it("decodes base64 bodies and uses the caller's x-request-id", async () => {
    const response = await routeRequest(
      { "POST /echo": async (request) => ({ status: 200, body: request.body }) },
      event("POST /echo", {
        headers: { "Content-Type": "application/json", "X-Request-Id": "mine" },
        body: Buffer.from('{"a":1}').toString("base64"),
        isBase64Encoded: true,
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('{"a":1}');
    expect(response.headers?.["x-request-id"]).toBe("mine");
  });

  it("trusts x-actor only on the local runtime and prefers the IAM principal", async () => {
    const echoActor = {
      "GET /who": async (request: { actor: string }) => ({ status: 200, body: { actor: request.actor } }),
    };
    const actorOf = async (request: APIGatewayProxyEventV2) =>
      JSON.parse(String((await routeRequest(echoActor, request)).body)).actor;
    await withEnv({ ORDERLINE_TRUST_ACTOR_HEADER: undefined }, async () => {
      expect(await actorOf(event("GET /who", { headers: { "x-actor": "mallory" } }))).toBe("anonymous");
    });
    await withEnv({ ORDERLINE_TRUST_ACTOR_HEADER: "true" }, async () => {
      expect(await actorOf(event("GET /who", { headers: { "x-actor": "ops-kim" } }))).toBe("ops-kim");
      const iam = event("GET /who", {
        headers: { "x-actor": "ops-kim" },
        requestContext: {
          requestId: "r",
          authorizer: { iam: { userArn: "arn:aws:iam::1:user/admin" } },
        } as unknown as APIGatewayProxyEventV2["requestContext"],
      });
      expect(await actorOf(iam)).toBe("arn:aws:iam::1:user/admin");
    });
  });

  it("answers CAPACITY_EXCEEDED with 503 problem+json and Retry-After in whole seconds (default 1)", async () => {
    const logged = vi.spyOn(logger, "error").mockImplementation(() => undefined);
    const throttled = (details?: Record<string, unknown>) => ({
      "POST /busy": async () => {
        throw new DomainError(
          "CAPACITY_EXCEEDED",
          "DynamoDB kept throttling this key; send the same request again",
          details,
        );
      },
    });
    const response = await routeRequest(throttled({ retryAfterSeconds: 2 }), event("POST /busy"));
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({
      "content-type": "application/problem+json",
      "retry-after": "2",
      "x-request-id": "gw-req-1",
    });
    expect(JSON.parse(String(response.body))).toMatchObject({
      status: 503,
      code: "CAPACITY_EXCEEDED",
      title: "Service Unavailable",
      retryAfterSeconds: 2,
    });
    expect((await routeRequest(throttled(), event("POST /busy"))).headers?.["retry-after"]).toBe("1");
    expect(
      (await routeRequest(throttled({ retryAfterSeconds: 0.2 }), event("POST /busy"))).headers?.["retry-after"],
    ).toBe("1");
    expect(
      (await routeRequest(throttled({ retryAfterSeconds: "soon" }), event("POST /busy"))).headers?.["retry-after"],
    ).toBe("1");
    logged.mockRestore();
  });

  it("refuses a body that is JSON but not an object (null included) on every route, and passes an absent body as undefined", async () => {
    const seen: unknown[] = [];
    const echo = {
      "POST /echo": async (request: { body: unknown }) => {
        seen.push(request.body);
        return { status: 200, body: {} };
      },
    };
    const headers = { "content-type": "application/json" };
    for (const body of ["null", "[]", "1", '"text"', "true"]) {
      const response = await routeRequest(echo, event("POST /echo", { headers, body }));
      expect(response.statusCode, body).toBe(400);
      expect(JSON.parse(String(response.body))).toMatchObject({
        code: "VALIDATION_ERROR",
        errors: [{ path: "(body)" }],
      });
    }
    expect(seen).toEqual([]);
    expect((await routeRequest(echo, event("POST /echo"))).statusCode).toBe(200);
    expect((await routeRequest(echo, event("POST /echo", { headers, body: '{"a":1}' }))).statusCode).toBe(200);
    expect(seen).toEqual([undefined, { a: 1 }]);
  });

  it("emits what an observed route declares: its answer's counts and log line, a DomainError's refusal, nothing else", async () => {
    const counted: string[] = [];
    vi.spyOn(metrics, "singleMetric").mockImplementation(() => {
      const dimensions: string[] = [];
      const single = {
        addDimension: (key: string, value: string) => {
          dimensions.push(`${key}=${value}`);
          return single;
        },
        addMetric: (name: string) => void counted.push(`${name}{${dimensions.join(",")}}`),
      };
      return single as unknown as ReturnType<typeof metrics.singleMetric>;
    });
    const info = vi.spyOn(logger, "info").mockImplementation(() => undefined);
    const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
    vi.spyOn(logger, "error").mockImplementation(() => undefined);
    const outcome: { value: "ok" | "refused" | "broken" } = { value: "ok" };
    const route: ObservedRoute = {
      async handle() {
        if (outcome.value === "refused") throw new DomainError("NOT_FOUND", "no such thing");
        if (outcome.value === "broken") throw new Error("bug");
        return {
          status: 200,
          body: { ok: true },
          observe: { count: [["thing_total", { status: "ok" }]], log: { message: "thing done", fields: { id: "t1" } } },
        };
      },
      rejected: (error) => ({
        count: [["thing_total", { status: error.code }]],
        log: { message: "thing refused", level: "warn", fields: { code: error.code } },
      }),
    };
    const routes = { "POST /thing": route };
    try {
      const ok = await routeRequest(routes, event("POST /thing"));
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toBe('{"ok":true}');
      outcome.value = "refused";
      expect((await routeRequest(routes, event("POST /thing"))).statusCode).toBe(404);
      outcome.value = "broken";
      expect((await routeRequest(routes, event("POST /thing"))).statusCode).toBe(500);
      expect(counted).toEqual(["thing_total{status=ok}", "thing_total{status=NOT_FOUND}"]);
      expect(info.mock.calls).toEqual([["thing done", { request_id: "gw-req-1", route: "POST /thing", id: "t1" }]]);
      expect(warn.mock.calls).toEqual([
        ["thing refused", { request_id: "gw-req-1", route: "POST /thing", code: "NOT_FOUND" }],
      ]);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
