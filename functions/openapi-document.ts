import { openApiDocument } from "./openapi.js";
import { relayOperations } from "./openapi-relay.js";

/** The service's OpenAPI document: every route of the route table, orders and relays. */
export function document() {
  return openApiDocument(relayOperations);
}
