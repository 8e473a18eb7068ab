import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { DomainError } from "../../core/errors.js";
import { httpHandler, respond } from "../http/api.js";
import { allowedMethods } from "../routes.js";

/**
 * The path the route table is matched against. On a named stage API Gateway puts the stage in front of the path
 * (`/prod/api/v1/...`); the routes are declared without it.
 */
function routePath(event: APIGatewayProxyEventV2): string {
  const path = event.rawPath || event.requestContext?.http?.path || "/";
  const stage = event.requestContext?.stage;
  if (stage && stage !== "$default" && path.startsWith(`/${stage}/`)) return path.slice(stage.length + 1);
  return path;
}

/**
 * The catch-all (`$default` route in AWS, unmatched requests on the local gateway): a known path with another
 * method is 405 METHOD_NOT_ALLOWED with `Allow`, anything else 404 NOT_FOUND, both problem+json with
 * `x-request-id`. The body is never read: an unknown route is answered the same whatever it was sent.
 */
export function fallback(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return respond(event, async () => {
    const method = event.requestContext?.http?.method ?? "GET";
    const path = routePath(event);
    const allow = allowedMethods(path);
    if (allow.length > 0)
      throw new DomainError("METHOD_NOT_ALLOWED", `${path} does not take ${method}; it takes ${allow.join(", ")}`, {
        allow,
      });
    throw new DomainError("NOT_FOUND", `no route ${method} ${path}`);
  });
}

export const handler = httpHandler(fallback);
