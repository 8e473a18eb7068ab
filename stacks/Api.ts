import type { CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { type ApiRouteProps, Api as HttpApi, type StackContext, use } from "sst/constructs";
import { type Auth, fallbackHandler, type Route, routeGroups, routeKey, routes } from "../functions/routes.js";
import { Data } from "./Data.js";
import { orderlineFunction } from "./functions.js";
import { stagePolicy } from "./naming.js";

/**
 * Every route is deployed with AWS IAM auth (SigV4); nothing on this API is reachable anonymously. The route
 * table's `auth` (functions/routes.ts) says who calls a route, not whether it is authenticated:
 *
 * - "public": the contract's Public API (`/api/v1/...`). It is called by the BFF, which authenticates end users
 *   itself and signs its requests with its own role; end users never reach API Gateway directly.
 * - "iam": service-to-service and admin routes (`/internal/...`, `/admin/...`), signed by those services' and
 *   operators' roles.
 *
 * Both map to the "iam" authorizer. Which caller may invoke which routes is then decided by `execute-api:Invoke`
 * grants on the callers' roles (the BFF's role should get the `/api/v1/*` routes only); those grants belong with
 * the callers' roles and are not made in this stack.
 */
const AUTHORIZER_OF_AUTH: Record<Auth, "iam" | "none"> = { public: "iam", iam: "iam", signature: "none" };

/** Service-to-service and admin paths must never be declared as the BFF-facing public API. */
const IAM_ONLY_PREFIXES = ["/internal/", "/admin/"];

function authorizerOf(route: Route): "iam" | "none" {
  if (IAM_ONLY_PREFIXES.some((prefix) => route.path.startsWith(prefix)) && route.auth !== "iam") {
    throw new Error(`${routeKey(route)} must use auth "iam" (functions/routes.ts)`);
  }
  return AUTHORIZER_OF_AUTH[route.auth];
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The HTTP API, generated from the route table: one Lambda per route group (its module dispatches on the route
 * key), AWS IAM auth on every route (see AUTHORIZER_OF_AUTH), and a `$default` catch-all so an unknown path or
 * method gets the same problem+json 404/405 as on the local gateway instead of API Gateway's own answer.
 */
export function Api(ctx: StackContext) {
  const { app, stack } = ctx;
  const { supplierSigningSecret } = use(Data);
  const policy = stagePolicy(app.stage);

  const groupFunctions = Object.fromEntries(
    Object.entries(routeGroups).map(([name, group]) => [
      name,
      orderlineFunction(ctx, `${pascal(name)}Routes`, supplierSigningSecret, {
        handler: group.handler,
        table: group.table,
        description: `HTTP routes of group "${name}"`,
        timeout: `${group.timeoutSeconds} seconds`,
      }),
    ]),
  );

  const fallback = orderlineFunction(ctx, "FallbackRoute", supplierSigningSecret, {
    handler: fallbackHandler,
    table: "none",
    description: "HTTP catch-all ($default): 404 / 405 problem+json for unknown paths and methods",
  });

  const api = new HttpApi(stack, "Api", {
    // Callers are servers (BFF, payment/shipment services, admin tools), never browsers: no CORS.
    cors: false,
    // Retention here replaces SST's default (never expire); manageLogGroups also sets it and the removal policy.
    accessLog: { retention: policy.logRetention },
    defaults: { throttle: policy.apiThrottle },
    routes: {
      ...Object.fromEntries(
        routes.map((route): [string, ApiRouteProps<never>] => [
          routeKey(route),
          { type: "function", function: groupFunctions[route.group]!, authorizer: authorizerOf(route) },
        ]),
      ),
      // Signed like every other route: an unsigned request to an unknown path is refused by IAM (403) first.
      $default: { type: "function", function: fallback, authorizer: "iam" },
    },
  });

  // Routes without IAM (supplier webhooks) get throttling of their own, below the stage's.
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as CfnStage | undefined;
  const unsigned = routes.filter((route) => route.auth === "signature");
  if (stage && unsigned.length > 0)
    stage.addPropertyOverride(
      "RouteSettings",
      Object.fromEntries(
        unsigned.map((route) => [
          routeKey(route),
          { ThrottlingRateLimit: policy.webhookThrottle.rate, ThrottlingBurstLimit: policy.webhookThrottle.burst },
        ]),
      ),
    );

  stack.addOutputs({ ApiUrl: api.url });
  return { api };
}
