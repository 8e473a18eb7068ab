import * as z from "zod";
import {
  createDocument,
  type ZodOpenApiLinkObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from "zod-openapi";
import { Cart } from "../core/cart/index.js";
import { Catalog } from "../core/catalog/index.js";
import { CHECKOUT_CHOICES } from "../core/order/checkout.js";
import { Order } from "../core/order/index.js";
import { Cursor, exactlyOneOfJsonSchema, freeFormValueComponents, Id, Limit } from "../core/schema.js";
import { statusOfCode } from "./http/problem.js";
import { type Auth, routeKey, routes } from "./routes.js";

/** What one route takes and gives, in the same zod schemas the handlers validate with. */
export interface OperationSpec {
  summary: string;
  path?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** False where the handler also takes a request without a body (the document then marks the body optional). */
  bodyRequired?: boolean;
  headers?: z.ZodObject;
  success: {
    status: number;
    schema: z.ZodType;
    description: string;
    headers?: z.ZodObject;
    links?: Record<string, ZodOpenApiLinkObject>;
  }[];
  /** Problem codes the route can answer besides VALIDATION_ERROR and INTERNAL. */
  errors: string[];
}

export const Problem = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().meta({ description: "UPPER_SNAKE error code" }),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    items: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

/** The operationId of a route key: `GET /api/v1/orders/{orderId}` -> `getApiV1OrdersOrderId`. */
export function operationIdOf(key: string): string {
  const [method = "", path = ""] = key.split(" ");
  return (
    method.toLowerCase() +
    path.replace(/[^A-Za-z0-9]+([A-Za-z0-9])?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))
  );
}

/**
 * OpenAPI links from a created resource to the routes that take its id (`param`, read from the response body's
 * `field`), so a stateful client (or fuzzer) can follow a creation with calls on what it created.
 */
export function linksTo(keys: string[], param: string, field = param): Record<string, ZodOpenApiLinkObject> {
  return Object.fromEntries(
    keys.map((key) => [
      operationIdOf(key),
      { operationId: operationIdOf(key), parameters: { [param]: `$response.body#/${field}` } },
    ]),
  );
}

/**
 * Problem codes any route may answer: an oversized request line or headers (431, from the gateway), DynamoDB
 * throttling past the bounded retries (503), and, on a route that takes a body, one too large or not JSON.
 */
const commonErrors = ["REQUEST_HEADER_FIELDS_TOO_LARGE", "CAPACITY_EXCEEDED"];
const bodyErrors = ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}

const OrderSchema = Order.Representation.meta({ id: "Order" });
const OrderEventSchema = Order.EventRecord.meta({ id: "OrderEvent" });
const Stock = z
  .object({ skuId: z.string(), onHand: z.int(), reserved: z.int(), available: z.int(), shards: z.int().min(1).max(64) })
  .meta({ id: "Stock" });
const Offer = Catalog.OfferInput.extend({ skuId: z.string(), updatedAt: z.string() }).meta({ id: "Offer" });
const CartSchema = Cart.Input.extend({ cartId: z.string(), updatedAt: z.string() }).meta({ id: "Cart" });
const orderPath = z.object({ orderId: Id });
const skuPath = z.object({ skuId: Id });
const cartPath = z.object({ cartId: Id });
const pageQuery = z.object({ limit: Limit.optional(), cursor: Cursor });

const orderOperations: Record<string, OperationSpec> = {
  "POST /api/v1/orders": {
    summary: "Checkout: re-quote, reserve stock and create the order, all or nothing",
    headers: z.object({ "Idempotency-Key": Order.IdempotencyKey.optional() }),
    // The body's exactly-one-of rules are CheckoutInput's refinement, stated from the same CHECKOUT_CHOICES.
    body: Order.CheckoutFields.extend({ idempotencyKey: Order.IdempotencyKey.optional() }).meta({
      id: "CheckoutRequest",
      description:
        "`idempotencyKey` here or the `Idempotency-Key` header: one of them is required, and equal when both are sent",
      override: ({ jsonSchema }) => void Object.assign(jsonSchema, exactlyOneOfJsonSchema(CHECKOUT_CHOICES)),
    }),
    success: [
      {
        status: 201,
        schema: OrderSchema,
        description: "order created",
        links: linksTo(
          [
            "GET /api/v1/orders/{orderId}",
            "GET /api/v1/orders/{orderId}/events",
            "POST /api/v1/orders/{orderId}/cancel",
            "POST /internal/orders/{orderId}/events",
          ],
          "orderId",
        ),
      },
      {
        status: 200,
        schema: OrderSchema,
        description: "the key was already used with the same request: the same order",
        headers: z.object({ "Idempotent-Replayed": z.literal("true") }),
      },
    ],
    errors: [
      "CART_NOT_FOUND",
      "PRICE_CHANGED",
      "OFFER_UNAVAILABLE",
      "OUT_OF_STOCK",
      "IDEMPOTENCY_KEY_REUSED",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
    ],
  },
  "GET /api/v1/orders": {
    summary: "A user's orders, newest first",
    query: Order.ListOrdersInput.partial({ limit: true }),
    success: [{ status: 200, schema: pageOf(OrderSchema, "OrderPage"), description: "one page" }],
    errors: [],
  },
  "GET /api/v1/orders/{orderId}": {
    summary: "An order with its items",
    path: orderPath,
    success: [{ status: 200, schema: OrderSchema, description: "the order" }],
    errors: ["NOT_FOUND"],
  },
  "GET /api/v1/orders/{orderId}/events": {
    summary: "An order's event history, oldest first (gapless seq)",
    path: orderPath,
    query: pageQuery,
    success: [{ status: 200, schema: pageOf(OrderEventSchema, "OrderEventPage"), description: "one page" }],
    errors: ["NOT_FOUND"],
  },
  "POST /api/v1/orders/{orderId}/cancel": {
    summary: "Cancel an unpaid order (releases its stock once); a cancelled order is returned unchanged",
    path: orderPath,
    body: Order.CancelInput,
    bodyRequired: false,
    success: [{ status: 200, schema: OrderSchema, description: "the cancelled order" }],
    errors: ["NOT_FOUND", "INVALID_TRANSITION"],
  },
  "PUT /internal/offers/{skuId}": {
    summary: "Set a SKU's current offer (the re-quote source)",
    path: skuPath,
    body: Catalog.OfferInput,
    success: [{ status: 200, schema: Offer, description: "the offer" }],
    errors: [],
  },
  "GET /internal/offers/{skuId}": {
    summary: "A SKU's current offer",
    path: skuPath,
    success: [{ status: 200, schema: Offer, description: "the offer" }],
    errors: ["NOT_FOUND"],
  },
  "PUT /internal/inventory/{skuId}": {
    summary: "Set stock on hand (refused below what live orders hold)",
    path: skuPath,
    body: Catalog.StockInput,
    success: [{ status: 200, schema: Stock, description: "the stock" }],
    errors: ["STOCK_BELOW_RESERVED"],
  },
  "GET /internal/inventory/{skuId}": {
    summary: "A SKU's stock",
    path: skuPath,
    success: [{ status: 200, schema: Stock, description: "the stock" }],
    errors: ["NOT_FOUND"],
  },
  "PUT /internal/carts/{cartId}": {
    summary: "Store the cart snapshot checkout reads",
    path: cartPath,
    body: Cart.Input,
    success: [{ status: 200, schema: CartSchema, description: "the cart" }],
    errors: [],
  },
  "GET /internal/carts/{cartId}": {
    summary: "A stored cart",
    path: cartPath,
    success: [{ status: 200, schema: CartSchema, description: "the cart" }],
    errors: ["CART_NOT_FOUND"],
  },
  "POST /internal/orders/{orderId}/events": {
    summary: "Apply a payment or shipment event (same logic as the EventBridge rules); a redelivery is a no-op",
    path: orderPath,
    body: Order.ExternalOrderEventInput,
    success: [{ status: 200, schema: OrderSchema, description: "the order after the event" }],
    errors: ["NOT_FOUND", "INVALID_TRANSITION"],
  },
};

const validationProblem = (errors: { path: string; message: string }[]) => ({
  type: "urn:orderline:problem:validation-error",
  title: "Bad Request",
  status: 400,
  detail: errors.map((e) => `${e.path}: ${e.message}`).join("; "),
  code: "VALIDATION_ERROR",
  requestId: "01JD7X3K9Q2M5N8P4R6T0V1W2Y",
  errors,
});

/**
 * Examples of the 400 a route answers, as the service words them: every problem at once, each named where it was
 * sent (`path.<name>`, `query.<name>`, `header.<name>`, or the body field).
 */
function validationExamples(key: string, spec: OperationSpec): Record<string, { summary: string; value: unknown }> {
  const examples: Record<string, { summary: string; value: unknown }> = {};
  if (key === "POST /api/v1/orders")
    examples.emptyBody = {
      summary: "an empty body `{}`: every missing field in one answer",
      value: validationProblem([
        { path: "userId", message: "is required" },
        {
          path: "header.Idempotency-Key",
          message: "is required: send the Idempotency-Key header or the body field idempotencyKey",
        },
        { path: "currency", message: "is required" },
        { path: "paymentMethod", message: "is required" },
        { path: "items", message: "give exactly one of items or cartId" },
        { path: "shippingAddressId", message: "give exactly one of shippingAddressId or shippingAddress" },
      ]),
    };
  const param = spec.path ? Object.keys(spec.path.shape)[0] : undefined;
  if (param)
    examples.badPathParameter = {
      summary: `a ${param} in the URL with a character ids never have`,
      value: validationProblem([{ path: `path.${param}`, message: "may contain only letters, digits and . _ : @ -" }]),
    };
  if (spec.query && "limit" in spec.query.shape)
    examples.badQuery = {
      summary: "limit=abc",
      value: validationProblem([{ path: "query.limit", message: "must be a number" }]),
    };
  if (spec.body && !param && key !== "POST /api/v1/orders")
    examples.unknownField = {
      summary: "a field the route does not take",
      value: validationProblem([{ path: "note", message: "is not a known field" }]),
    };
  return examples;
}

function operation(spec: OperationSpec, auth: Auth, key = ""): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const success of spec.success)
    responses[String(success.status)] = {
      description: success.description,
      ...(success.headers ? { headers: success.headers } : {}),
      ...(success.links ? { links: success.links } : {}),
      content: { "application/json": { schema: success.schema } },
    };
  const byStatus = new Map<number, string[]>();
  const codes = new Set([
    "VALIDATION_ERROR",
    ...spec.errors,
    ...commonErrors,
    ...(spec.body ? bodyErrors : []),
    "INTERNAL",
  ]);
  for (const code of codes) {
    const status = statusOfCode[code] ?? 500;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of byStatus) {
    const examples = status === 400 ? validationExamples(key, spec) : {};
    responses[String(status)] = {
      description: codes.join(", "),
      content: {
        "application/problem+json": { schema: Problem, ...(Object.keys(examples).length > 0 ? { examples } : {}) },
      },
    };
  }
  return {
    operationId: operationIdOf(key),
    summary: spec.summary,
    // Every route but the supplier webhooks is IAM-authenticated in AWS; `public` routes are the ones the BFF calls.
    security: auth === "signature" ? [{ standardWebhooks: [] }] : [{ awsIam: [] }],
    "x-caller": auth === "public" ? "bff" : auth === "signature" ? "supplier" : "service",
    requestParams: {
      ...(spec.path ? { path: spec.path } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.headers ? { header: spec.headers } : {}),
    },
    ...(spec.body
      ? { requestBody: { required: spec.bodyRequired ?? true, content: { "application/json": { schema: spec.body } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every route in the route table; throws if a route has no operation spec. */
export function openApiDocument(extra: Record<string, OperationSpec> = {}) {
  const specs = { ...orderOperations, ...extra };
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const spec = specs[routeKey(route)];
    if (!spec) throw new Error(`no OpenAPI operation for ${routeKey(route)}`);
    const item = (paths[route.path] ?? {}) as Record<string, ZodOpenApiOperationObject>;
    item[route.method.toLowerCase()] = operation(spec, route.auth, routeKey(route));
    paths[route.path] = item;
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Orderline",
      version: "1.0.0",
      description:
        "Serverless order backend: idempotent checkout, order state machine with event history, dropship relay. Errors are RFC 9457 problem+json.",
    },
    components: {
      // Referenced by the free-form `payload` schema (core/schema.ts freeFormJsonSchema).
      schemas: freeFormValueComponents(),
      securitySchemes: {
        awsIam: { type: "apiKey", in: "header", name: "Authorization", description: "AWS SigV4 (IAM)" },
        standardWebhooks: {
          type: "apiKey",
          in: "header",
          name: "webhook-signature",
          description:
            "Standard Webhooks: HMAC-SHA256 with the supplier's whsec_ secret over `<webhook-id>.<webhook-timestamp>.<raw body>`",
        },
      },
    },
    paths,
  });
}
