import { Api as HttpApi, use, type ApiRouteProps, type StackContext } from "sst/constructs";
import { routeGroups, routeKey, routes, type Route, type RouteGroupName } from "../functions/routes.js";
import { Data } from "./Data.js";
import { orderlineFunction } from "./functions.js";

/** Route groups that may call a supplier synchronously (on-demand dispatch, admin retry): up to the HTTP API cap. */
const SUPPLIER_CALLING_GROUPS: ReadonlySet<RouteGroupName> = new Set(["relays", "admin"]);

/** Service-to-service and admin paths must never be public, whatever the route table says. */
const IAM_ONLY_PREFIXES = ["/internal/", "/admin/"];

function authorizerOf(route: Route): "iam" | "none" {
  if (IAM_ONLY_PREFIXES.some((prefix) => route.path.startsWith(prefix)) && route.auth !== "iam") {
    throw new Error(`${routeKey(route)} must use auth "iam" (functions/routes.ts)`);
  }
  return route.auth === "iam" ? "iam" : "none";
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The HTTP API, generated from the route table: one Lambda per route group (its module dispatches on the route
 * key), IAM auth for internal/admin routes, none for the public order API.
 */
export function Api(ctx: StackContext) {
  const { stack } = ctx;
  const { supplierSigningSecret } = use(Data);

  const groupFunctions = Object.fromEntries(
    Object.entries(routeGroups).map(([name, group]) => [
      name,
      orderlineFunction(ctx, `${pascal(name)}Routes`, supplierSigningSecret, {
        handler: group.handler,
        table: group.table,
        description: `HTTP routes of group "${name}"`,
        ...(SUPPLIER_CALLING_GROUPS.has(name as RouteGroupName) ? { timeout: "29 seconds" } : {}),
      }),
    ]),
  );

  const api = new HttpApi(stack, "Api", {
    // Callers are servers (BFF, payment/shipment services, admin tools), never browsers: no CORS.
    cors: false,
    routes: Object.fromEntries(
      routes.map((route): [string, ApiRouteProps<never>] => [
        routeKey(route),
        { type: "function", function: groupFunctions[route.group]!, authorizer: authorizerOf(route) },
      ]),
    ),
  });

  stack.addOutputs({ ApiUrl: api.url });
  return { api };
}
