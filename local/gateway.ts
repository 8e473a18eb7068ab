import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { ulid } from "ulid";
import { routeGroups, routeKey, routes, type Route, type RouteGroupName } from "../functions/routes.js";
import { responseRequestId } from "../functions/http/api.js";
import { problem } from "../functions/http/problem.js";
import { importHandler, lambdaContext } from "./lambda.js";


/** API Gateway's own payload limit; the handlers enforce the service's smaller one (256 KB). */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

const compiled = routes.map(compile);


function match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of compiled) {
    if (candidate.route.method !== method) continue;
    const m = candidate.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      candidate.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? "")));
    } catch {
      return undefined;
    }
    return { route: candidate.route, params };
  }
  return undefined;
}

/** The API Gateway v2 (HTTP API, payload 2.0) event the deployed API would send for this request. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  url: URL,
  route: Route,
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
  const key = routeKey(route);
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
  res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers });
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
export type LocalRoute = (req: IncomingMessage, url: URL) => Promise<{ status: number; body: unknown } | undefined>;

/**
 * The local HTTP gateway: matches a request against the route table, builds the API Gateway v2 event and calls
 * the same Lambda handler the deployed API calls.
 */
export function createGateway(localRoutes: LocalRoute[] = []): Server {
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      // API Gateway's own request id; the handlers prefer a sane caller-supplied x-request-id over it.
      const requestId = ulid();
      const idHeader = { "x-request-id": responseRequestId(req.headers["x-request-id"], requestId) };
      try {
        for (const local of localRoutes) {
          const answer = await local(req, url);
          if (answer) return send(res, answer.status, answer.body, idHeader);
        }
        const found = match(req.method ?? "GET", url.pathname);
        if (!found) {
          req.resume();
          return send(res, 404, problem("NOT_FOUND", `no route ${req.method} ${url.pathname}`), idHeader);
        }
        const body = await readBody(req);
        if (!body) return send(res, 413, problem("PAYLOAD_TOO_LARGE", "the body is too large"), idHeader);
        const handler = await importHandler<LambdaHandler>(routeGroups[found.route.group].handler);
        const event = toApiGatewayEvent(req, url, found.route, found.params, body, requestId);
        const result = await handler(event, lambdaContext(`orderline-${found.route.group}`));
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? "");
      } catch (error) {
        console.error("local gateway error", error);
        if (!res.headersSent) send(res, 500, problem("INTERNAL", "the local gateway failed"), idHeader);
        else res.end();
      }
    })();
  });
}
