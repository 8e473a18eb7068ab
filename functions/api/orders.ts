import { ValidationError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { pathParams, relocate, summaryOf } from "../../core/validate.js";
import { type HttpRequest, httpApi, type ObservedResponse, type ObservedRoute, type RouteTable } from "../http/api.js";

/** Outcome label of order_create_total for each checkout rejection. */
const rejectionMetric: Record<string, string> = {
  PRICE_CHANGED: "order_price_changed_total",
  OFFER_UNAVAILABLE: "order_price_changed_total",
  OUT_OF_STOCK: "order_out_of_stock_total",
};

const KEY_HEADER = "header.Idempotency-Key";

function idempotencyKeyOf(request: HttpRequest): unknown {
  const header = request.headers["idempotency-key"];
  const body = request.body as { idempotencyKey?: unknown } | undefined;
  if (header !== undefined && body?.idempotencyKey !== undefined && body.idempotencyKey !== header)
    throw new ValidationError("the Idempotency-Key header and body idempotencyKey differ", [
      { path: "idempotencyKey", message: "must equal the Idempotency-Key header" },
    ]);
  return body?.idempotencyKey ?? header;
}

/**
 * The key is validated as a body field, but a caller may have sent it as the header, or not at all: name it where
 * it came from, and a missing one as the choice it is.
 */
function keyIssuesWhereSent(error: unknown, request: HttpRequest): never {
  if (!(error instanceof ValidationError)) throw error;
  const inBody = (request.body as { idempotencyKey?: unknown } | undefined)?.idempotencyKey !== undefined;
  const inHeader = request.headers["idempotency-key"] !== undefined;
  if (inBody) throw error;
  const issues = error.issues.map((issue) =>
    issue.path !== "idempotencyKey"
      ? issue
      : inHeader
        ? { path: KEY_HEADER, message: issue.message }
        : {
            path: KEY_HEADER,
            message: "is required: send the Idempotency-Key header or the body field idempotencyKey",
          },
  );
  throw new ValidationError(summaryOf(issues), issues);
}

/** The checkout's log fields, read as sent (a refusal is logged with them too, so nothing here may throw). */
function checkoutFields(request: HttpRequest): Record<string, unknown> {
  const body = (request.body ?? {}) as { userId?: unknown; cartId?: unknown; idempotencyKey?: unknown };
  return {
    user_id: body.userId ?? null,
    cart_id: body.cartId ?? null,
    idempotency_key: body.idempotencyKey ?? request.headers["idempotency-key"] ?? null,
  };
}

const checkout: ObservedRoute = {
  async handle(request): Promise<ObservedResponse> {
    const body = request.body;
    if (body === null || typeof body !== "object" || Array.isArray(body))
      throw new ValidationError("the body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
    const input = { ...body, idempotencyKey: idempotencyKeyOf(request) };
    const { order, replayed } = await Order.checkout(input, request).catch((error: unknown) =>
      keyIssuesWhereSent(error, request),
    );
    const fields = { ...checkoutFields(request), order_id: order.orderId };
    if (replayed)
      return {
        status: 200,
        body: order,
        headers: { "idempotent-replayed": "true" },
        observe: {
          count: [["order_idempotent_hit_total"], ["order_create_total", { status: "replayed" }]],
          log: { message: "checkout replayed", fields },
        },
      };
    return {
      status: 201,
      body: order,
      headers: { location: `/api/v1/orders/${order.orderId}` },
      observe: {
        count: [["order_create_total", { status: "created" }]],
        log: { message: "order created", fields: { ...fields, status_transition: "->PAYMENT_PENDING" } },
      },
    };
  },
  rejected: (error, request) => {
    const specific = rejectionMetric[error.code];
    return {
      count: [["order_create_total", { status: error.code }], ...(specific ? [[specific] as const] : [])],
      log: { message: "checkout rejected", fields: { ...checkoutFields(request), code: error.code } },
    };
  },
};

const cancel: ObservedRoute = {
  async handle(request): Promise<ObservedResponse> {
    const { orderId } = pathParams(request.params, "orderId");
    const result = await Order.cancel(orderId, request.body ?? {}, request);
    return {
      status: 200,
      body: result.order,
      observe: {
        count: [["order_cancel_total", { status: result.changed ? "canceled" : "already_canceled" }]],
        log: {
          message: "order cancel",
          fields: {
            order_id: orderId,
            user_id: result.order.userId,
            status_transition: result.statusTransition ?? null,
          },
        },
      },
    };
  },
  rejected: (error) => ({ count: [["order_cancel_total", { status: error.code }]] }),
};

export const routes: RouteTable = {
  "POST /api/v1/orders": checkout,
  "GET /api/v1/orders": async (request) => ({
    status: 200,
    body: await Order.listByUser(request.query).catch((error: unknown) => relocate(error, "query")),
  }),
  "GET /api/v1/orders/{orderId}": async (request) => ({
    status: 200,
    body: await Order.get(pathParams(request.params, "orderId").orderId),
  }),
  "GET /api/v1/orders/{orderId}/events": async (request) => {
    const { orderId } = pathParams(request.params, "orderId");
    return {
      status: 200,
      body: await Order.events(orderId, request.query).catch((error: unknown) => relocate(error, "query")),
    };
  },
  "POST /api/v1/orders/{orderId}/cancel": cancel,
};

export const handler = httpApi(routes);
