import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { ulid } from "ulid";
import { responseRequestId } from "../functions/http/api.js";
import { problem, titleOf } from "../functions/http/problem.js";
import { fallbackHandler, matchRoute, type Route, routeGroups, routeKey } from "../functions/routes.js";
import { importHandler, lambdaContext } from "./lambda.js";

/** API Gateway's own payload limit; the handlers enforce the service's smaller one (256 KB). */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The API Gateway v2 (HTTP API, payload 2.0) event the deployed API would send for this request: to the route's
 * function, or with `route` undefined to the `$default` (catch-all) function.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  url: URL,
  route: Route | undefined,
  params: Record<string, string>,
  body: Buffer,
  requestId: string = ulid(),
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  const now = new Date();
  const key = route ? routeKey(route) : "$default";
  return {
    version: "2.0",
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: key,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString("utf8") } : {}),
    isBase64Encoded: false,
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": status >= 400 ? "application/problem+json" : "application/json",
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Extra routes the local runtime serves itself (health, local bus inspection, OpenAPI). */
/** A route the local runtime answers itself: JSON `body`, or `raw` bytes of a given content type (pages, assets). */
export type LocalRoute = (
  req: IncomingMessage,
  url: URL,
) => Promise<
  | {
      status: number;
      body?: unknown;
      raw?: { contentType: string; data: Buffer | string };
      headers?: Record<string, string>;
    }
  | undefined
>;

/**
 * Node's answer to a request it could not parse, as problem+json like every other answer: a request line and
 * headers over the server's `maxHeaderSize` (16 KB by default; API Gateway has its own limits), a malformed request,
 * a request that did not arrive in time. Node would otherwise send a bare status line.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [code, detail] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [
          "REQUEST_HEADER_FIELDS_TOO_LARGE",
          "the request line and headers are too large; send a shorter URL and fewer or smaller headers",
        ]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "HPE_REQUEST_TIMEOUT"
        ? ["REQUEST_TIMEOUT", "the request did not arrive in time"]
        : ["VALIDATION_ERROR", "the request is not valid HTTP/1.1"];
  const requestId = ulid();
  const body = problem(code, detail, { requestId });
  const text = JSON.stringify(body);
  socket.end(
    [
      `HTTP/1.1 ${body.status} ${titleOf(body.status)}`,
      "content-type: application/problem+json",
      `content-length: ${Buffer.byteLength(text)}`,
      `x-request-id: ${requestId}`,
      "connection: close",
      "",
      text,
    ].join("\r\n"),
  );
}

/** One answered request, as the dev console prints it. */
export interface AccessEntry {
  method: string;
  /** The path with its query string, as requested. */
  path: string;
  status: number;
  ms: number;
  requestId: string;
}

const accessListeners = new Set<(entry: AccessEntry) => void>();

/**
 * Calls `listener` once per request any gateway in this process answers (`npm run dev` prints an access line);
 * returns the function that removes it.
 */
export function onAccess(listener: (entry: AccessEntry) => void): () => void {
  accessListeners.add(listener);
  return () => accessListeners.delete(listener);
}

/** `POST /api/v1/orders 201 12 ms 01J...`: one line per request, long paths cut. */
export function formatAccessLine(entry: AccessEntry): string {
  const path = entry.path.length > 120 ? `${entry.path.slice(0, 117)}...` : entry.path;
  return `${entry.method} ${path} ${entry.status} ${entry.ms} ms ${entry.requestId}`;
}

function reportAccess(req: IncomingMessage, res: ServerResponse, started: bigint, fallbackId: string): void {
  if (accessListeners.size === 0) return;
  // Headers given to writeHead are not readable back with getHeader: note the request id on the way out.
  let answeredId: unknown;
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const headers = args.find((a) => typeof a === "object" && a !== null && !Array.isArray(a)) as
      | Record<string, unknown>
      | undefined;
    answeredId = headers?.["x-request-id"];
    return writeHead(...args);
  }) as typeof res.writeHead;
  res.once("close", () => {
    const header = answeredId ?? res.getHeader("x-request-id");
    const entry: AccessEntry = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      status: res.statusCode,
      ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
      requestId: typeof header === "string" ? header : fallbackId,
    };
    for (const listener of accessListeners) {
      try {
        listener(entry);
      } catch {
        // a console printer must never break serving
      }
    }
  });
}

/**
 * The local HTTP gateway: matches a request against the route table, builds the API Gateway v2 event and calls
 * the same Lambda handler the deployed API calls; a request no route matches goes to the same catch-all function
 * as the deployed API's `$default` route (404, or 405 with `Allow`).
 */
export function createGateway(localRoutes: LocalRoute[] = []): Server {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      // API Gateway's own request id; the handlers prefer a sane caller-supplied x-request-id over it.
      const requestId = ulid();
      const idHeader = { "x-request-id": responseRequestId(req.headers["x-request-id"], requestId) };
      reportAccess(req, res, process.hrtime.bigint(), idHeader["x-request-id"]);
      try {
        for (const local of localRoutes) {
          const answer = await local(req, url);
          if (answer?.raw) {
            res.writeHead(answer.status, { "content-type": answer.raw.contentType, ...answer.headers, ...idHeader });
            return res.end(answer.raw.data);
          }
          if (answer) return send(res, answer.status, answer.body, { ...answer.headers, ...idHeader });
        }
        const found = matchRoute(req.method ?? "GET", url.pathname);
        let result: APIGatewayProxyStructuredResultV2;
        if (!found) {
          req.resume();
          const handler = await importHandler<LambdaHandler>(fallbackHandler);
          result = await handler(
            toApiGatewayEvent(req, url, undefined, {}, Buffer.alloc(0), requestId),
            lambdaContext("orderline-fallback"),
          );
        } else {
          const body = await readBody(req);
          if (!body) return send(res, 413, problem("PAYLOAD_TOO_LARGE", "the body is too large"), idHeader);
          const group = routeGroups[found.route.group];
          const handler = await importHandler<LambdaHandler>(group.handler);
          const event = toApiGatewayEvent(req, url, found.route, found.params, body, requestId);
          result = await handler(event, lambdaContext(`orderline-${found.route.group}`, group.timeoutSeconds * 1000));
        }
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? "");
      } catch (error) {
        console.error("local gateway error", error);
        if (!res.headersSent) send(res, 500, problem("INTERNAL", "the local gateway failed"), idHeader);
        else res.end();
      }
    })();
  });
  server.on("clientError", answerClientError);
  return server;
}
