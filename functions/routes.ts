/**
 * The route table: the one list of HTTP routes, read by stacks/Api.ts (API Gateway routes and their auth) and
 * by the local gateway. Each route belongs to a group; a group is one Lambda function whose module exports
 * `routes` keyed by route key (`METHOD /path`). Internal and admin routes use AWS IAM auth in AWS.
 */
/** `signature`: no IAM; the handler authenticates the caller by a signature over the request (supplier webhooks). */
export type Auth = "public" | "iam" | "signature";

export interface RouteGroup {
  /** Handler in SST notation: file path without extension, then the export. */
  handler: string;
  /** What the group's function may do to the table (least privilege). */
  table: "read" | "readWrite";
  /**
   * The function's timeout (s), deployed and given to the local runtime's context alike, so retries stop at the
   * same invocation deadline on both. Groups that call a supplier synchronously (on-demand dispatch, admin retry)
   * get up to the HTTP API's 29 s cap.
   */
  timeoutSeconds: number;
}

export const routeGroups = {
  orders: { handler: "functions/api/orders.handler", table: "readWrite", timeoutSeconds: 10 },
  reference: { handler: "functions/internal/reference.handler", table: "readWrite", timeoutSeconds: 10 },
  orderEvents: { handler: "functions/internal/orders.handler", table: "readWrite", timeoutSeconds: 10 },
  relays: { handler: "functions/internal/relays.handler", table: "readWrite", timeoutSeconds: 29 },
  admin: { handler: "functions/admin/http.handler", table: "readWrite", timeoutSeconds: 29 },
  webhooks: { handler: "functions/webhooks/suppliers.handler", table: "readWrite", timeoutSeconds: 10 },
} as const satisfies Record<string, RouteGroup>;

export type RouteGroupName = keyof typeof routeGroups;

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  group: RouteGroupName;
  auth: Auth;
}

export const routes: readonly Route[] = [
  { method: "POST", path: "/api/v1/orders", group: "orders", auth: "public" },
  { method: "GET", path: "/api/v1/orders", group: "orders", auth: "public" },
  { method: "GET", path: "/api/v1/orders/{orderId}", group: "orders", auth: "public" },
  { method: "GET", path: "/api/v1/orders/{orderId}/events", group: "orders", auth: "public" },
  { method: "POST", path: "/api/v1/orders/{orderId}/cancel", group: "orders", auth: "public" },

  { method: "PUT", path: "/internal/offers/{skuId}", group: "reference", auth: "iam" },
  { method: "GET", path: "/internal/offers/{skuId}", group: "reference", auth: "iam" },
  { method: "PUT", path: "/internal/inventory/{skuId}", group: "reference", auth: "iam" },
  { method: "GET", path: "/internal/inventory/{skuId}", group: "reference", auth: "iam" },
  { method: "PUT", path: "/internal/carts/{cartId}", group: "reference", auth: "iam" },
  { method: "GET", path: "/internal/carts/{cartId}", group: "reference", auth: "iam" },

  { method: "POST", path: "/internal/orders/{orderId}/events", group: "orderEvents", auth: "iam" },

  { method: "PUT", path: "/internal/listings/{listingId}", group: "relays", auth: "iam" },
  { method: "GET", path: "/internal/listings/{listingId}", group: "relays", auth: "iam" },
  { method: "PUT", path: "/internal/suppliers/{supplierId}", group: "relays", auth: "iam" },
  { method: "GET", path: "/internal/suppliers/{supplierId}", group: "relays", auth: "iam" },
  { method: "POST", path: "/internal/suppliers/{supplierId}/secret", group: "relays", auth: "iam" },
  { method: "POST", path: "/internal/relays", group: "relays", auth: "iam" },
  { method: "GET", path: "/internal/relays", group: "relays", auth: "iam" },
  { method: "GET", path: "/internal/relays/{relayId}", group: "relays", auth: "iam" },
  { method: "PATCH", path: "/internal/relays/{relayId}", group: "relays", auth: "iam" },
  { method: "POST", path: "/internal/relays/{relayId}/dispatch", group: "relays", auth: "iam" },
  { method: "POST", path: "/internal/relays/{relayId}/events", group: "relays", auth: "iam" },
  { method: "GET", path: "/internal/relays/{relayId}/audit", group: "relays", auth: "iam" },

  { method: "POST", path: "/admin/relays/retry", group: "admin", auth: "iam" },

  { method: "POST", path: "/webhooks/suppliers/{supplierId}", group: "webhooks", auth: "signature" },
];

export const routeKey = (route: Pick<Route, "method" | "path">) => `${route.method} ${route.path}`;

/**
 * The catch-all: the HTTP API's `$default` route in AWS, and every request the local gateway matches to no route.
 * It answers 404, or 405 with `Allow` for a known path, as problem+json. It reads nothing from the table.
 */
export const fallbackHandler = "functions/api/fallback.handler";

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = routes.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
});

/**
 * The route `method path` matches, with its decoded path parameters, as API Gateway matches it; undefined when
 * none does (a parameter that is not valid percent-encoding matches nothing).
 */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of compiled) {
    if (candidate.route.method !== method) continue;
    const m = candidate.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      for (const [i, name] of candidate.names.entries()) params[name] = decodeURIComponent(m[i + 1] ?? "");
    } catch {
      return undefined;
    }
    return { route: candidate.route, params };
  }
  return undefined;
}

/** The methods the route table serves on `path` (the `Allow` of a 405), in table order; empty for an unknown path. */
export function allowedMethods(path: string): Route["method"][] {
  const methods = compiled.filter((c) => c.pattern.test(path)).map((c) => c.route.method);
  return [...new Set(methods)];
}
