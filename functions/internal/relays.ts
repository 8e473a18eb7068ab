import { httpApi, type RouteHandler } from "../http/api.js";

// Placeholder until the relay issue lands: every route of this group answers 404.
export const routes: Record<string, RouteHandler> = {};

export const handler = httpApi(routes);
