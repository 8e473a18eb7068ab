import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { ulid } from "ulid";
import { config } from "../../core/config.js";
import { DomainError, ValidationError } from "../../core/errors.js";
import { count, logger } from "../powertools.js";
import { tracedHandler } from "../tracing.js";
import { problem } from "./problem.js";

/** Bodies above this are refused with 413 before any parsing. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface HttpRequest {
  body: unknown;
  /** The body exactly as received (what a signature over the body is computed on); "" when there is none. */
  rawBody: string;
  query: Record<string, string>;
  params: Record<string, string>;
  headers: Record<string, string>;
  requestId: string;
  /** The authenticated caller: the IAM principal in AWS, `x-actor` (default `local`) on the local runtime. */
  actor: string;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * What one request reports: counters and its one log line. Handlers return it with their answer and routes declare
 * it for refusals, so no handler weaves logging and metrics through its logic; {@link routeRequest} emits it with
 * `request_id` and `route` added to the log fields.
 */
export interface Observation {
  /** Counters to add once each: a metric name and its dimensions. */
  count?: ReadonlyArray<readonly [name: string, dimensions?: Record<string, string>]>;
  log?: { message: string; level?: "info" | "warn"; fields?: Record<string, unknown> };
}

/** An answer with what the request reports. */
export type ObservedResponse = HttpResponse & { observe?: Observation };

/** A route that reports what it did: its handler's answer carries `observe`; `rejected` reports a refusal. */
export interface ObservedRoute {
  handle: (request: HttpRequest) => Promise<ObservedResponse>;
  /** What a request refused with a DomainError reports (the error still becomes the problem answer). */
  rejected?: (error: DomainError, request: HttpRequest) => Observation;
}

/** A route group: each route key (`METHOD /path`) with a plain handler or an observed route. */
export type RouteTable = Record<string, RouteHandler | ObservedRoute>;

/** The request id of a response: the caller's `x-request-id` when it is sane (printable, short), else `fallback`. */
export function responseRequestId(given: string | string[] | undefined, fallback: string): string {
  return typeof given === "string" && /^[\x21-\x7e]{1,128}$/.test(given) ? given : fallback;
}

function requestIdOf(headers: Record<string, string>, event: APIGatewayProxyEventV2): string {
  return responseRequestId(headers["x-request-id"], event.requestContext?.requestId || ulid());
}

function actorOf(event: APIGatewayProxyEventV2, headers: Record<string, string>): string {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn;
  if (iam) return iam;
  // Only the local runtime (no IAM in front of it) trusts the header.
  if (config().trustActorHeader) return headers["x-actor"]?.slice(0, 200) || "local";
  return "anonymous";
}

function lowerCaseHeaders(raw: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

/** The body exactly as received, decoded from base64 when API Gateway encoded it; "" when there is none. */
function rawBodyOf(event: APIGatewayProxyEventV2): string {
  if (!event.body) return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

function parseBody(event: APIGatewayProxyEventV2, headers: Record<string, string>): unknown {
  if (event.body === undefined || event.body === null || event.body === "") return undefined;
  const text = rawBodyOf(event);
  if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES)
    throw new DomainError("PAYLOAD_TOO_LARGE", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  const type = headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json" && !type?.endsWith("+json"))
    throw new DomainError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError("VALIDATION_ERROR", "the body is not valid JSON", {
      errors: [{ path: "(body)", message: "malformed JSON" }],
    });
  }
}

function json(status: number, body: unknown, headers: Record<string, string>): APIGatewayProxyStructuredResultV2 {
  const isProblem = status >= 400;
  return {
    statusCode: status,
    headers: { "content-type": isProblem ? "application/problem+json" : "application/json", ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

/** Whole seconds a client should wait before sending a request refused with CAPACITY_EXCEEDED again (at least 1). */
function retryAfterSeconds(details: Record<string, unknown>): number {
  const given = details.retryAfterSeconds;
  return typeof given === "number" && Number.isFinite(given) && given > 0 ? Math.ceil(given) : 1;
}

/** Headers an error answer carries besides its problem document (RFC 9110 `Allow` on 405, `Retry-After` on 503). */
function errorHeaders(error: DomainError): Record<string, string> {
  if (error.code === "CAPACITY_EXCEEDED") return { "retry-after": String(retryAfterSeconds(error.details)) };
  if (error.code === "METHOD_NOT_ALLOWED" && Array.isArray(error.details.allow))
    return { allow: error.details.allow.join(", ") };
  return {};
}

/** What a handler sees of the request before its body is read. */
export interface RequestHead {
  headers: Record<string, string>;
  requestId: string;
}

/**
 * Answers an API Gateway v2 event with what `handle` returns, or maps what it throws: a DomainError to its problem
 * document (with the headers its code calls for), anything else to a bare 500 carrying only the request id, logged
 * with its cause: no stack ever leaves the service. Every answer carries `x-request-id`.
 */
export async function respond(
  event: APIGatewayProxyEventV2,
  handle: (head: RequestHead) => Promise<HttpResponse>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const headers = lowerCaseHeaders(event.headers);
  const requestId = requestIdOf(headers, event);
  const responseHeaders = { "x-request-id": requestId };
  try {
    const response = await handle({ headers, requestId });
    return json(response.status, response.body, { ...responseHeaders, ...response.headers });
  } catch (error) {
    if (error instanceof DomainError) {
      const body = problem(error.code, error.message, { ...error.details, requestId });
      if (body.status >= 500)
        logger.error("request failed", { request_id: requestId, route: event.routeKey, code: error.code });
      return json(body.status, body, { ...responseHeaders, ...errorHeaders(error) });
    }
    logger.error("unexpected error", { request_id: requestId, route: event.routeKey, error: error as Error });
    return json(
      500,
      problem("INTERNAL", "an unexpected error occurred; quote the request id when reporting it", { requestId }),
      responseHeaders,
    );
  }
}

/**
 * Turns an API Gateway v2 event into an HttpRequest and calls the route (see {@link respond} for the answer), then
 * emits what the route observed. A body, when there is one, is a JSON object on every route: `null`, an array or a
 * scalar is a 400.
 */
export function routeRequest(
  routes: RouteTable,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  return respond(event, async ({ headers, requestId }) => {
    const route = routes[event.routeKey];
    if (!route) throw new DomainError("NOT_FOUND", `no route ${event.routeKey}`);
    const request = requestOf(event, headers, requestId);
    if (typeof route === "function") return route(request);
    try {
      const { observe, ...response } = await route.handle(request);
      if (observe) emit(observe, request, event.routeKey);
      return response;
    } catch (error) {
      if (error instanceof DomainError && route.rejected) emit(route.rejected(error, request), request, event.routeKey);
      throw error;
    }
  });
}

function requestOf(event: APIGatewayProxyEventV2, headers: Record<string, string>, requestId: string): HttpRequest {
  const body = parseBody(event, headers);
  if (body !== undefined && (body === null || typeof body !== "object" || Array.isArray(body)))
    throw new ValidationError("the body must be a JSON object", [
      {
        path: "(body)",
        message: `expected an object, got ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}`,
      },
    ]);
  return {
    body,
    rawBody: rawBodyOf(event),
    query: definedValues(event.queryStringParameters),
    params: definedValues(event.pathParameters),
    headers,
    requestId,
    actor: actorOf(event, headers),
  };
}

function emit(observation: Observation, request: HttpRequest, route: string): void {
  for (const [name, dimensions] of observation.count ?? []) count(name, dimensions);
  const log = observation.log;
  if (log) logger[log.level ?? "info"](log.message, { request_id: request.requestId, route, ...log.fields });
}

function definedValues(raw: Record<string, string | undefined> | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/** An HTTP Lambda handler: traced (the latency callers see), with the invocation's deadline and logger context. */
export function httpHandler(
  plain: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  return tracedHandler(plain);
}

/** The Lambda handler of a route group: {@link routeRequest} wrapped with Powertools. */
export function httpApi(routes: RouteTable) {
  return httpHandler((event) => routeRequest(routes, event));
}
