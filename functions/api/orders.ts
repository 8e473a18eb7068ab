import { DomainError, ValidationError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { pathParams, relocate, summaryOf } from "../../core/validate.js";
import { type HttpRequest, type HttpResponse, httpApi, type RouteHandler } from "../http/api.js";
import { count, logger } from "../powertools.js";

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

const checkout: RouteHandler = async (request): Promise<HttpResponse> => {
  const body = request.body;
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new ValidationError("the body must be a JSON object", [{ path: "(body)", message: "expected an object" }]);
  const input = { ...body, idempotencyKey: idempotencyKeyOf(request) };
  const fields = {
    request_id: request.requestId,
    user_id: (body as { userId?: unknown }).userId ?? null,
    cart_id: (body as { cartId?: unknown }).cartId ?? null,
    idempotency_key: input.idempotencyKey ?? null,
  };
  try {
    const { order, replayed } = await Order.checkout(input, request).catch((error: unknown) =>
      keyIssuesWhereSent(error, request),
    );
    if (replayed) {
      count("order_idempotent_hit_total");
      count("order_create_total", { status: "replayed" });
      logger.info("checkout replayed", { ...fields, order_id: order.orderId });
      return { status: 200, body: order, headers: { "idempotent-replayed": "true" } };
    }
    count("order_create_total", { status: "created" });
    logger.info("order created", { ...fields, order_id: order.orderId, status_transition: "->PAYMENT_PENDING" });
    return { status: 201, body: order, headers: { location: `/api/v1/orders/${order.orderId}` } };
  } catch (error) {
    if (error instanceof DomainError) {
      count("order_create_total", { status: error.code });
      const specific = rejectionMetric[error.code];
      if (specific) count(specific);
      logger.info("checkout rejected", { ...fields, code: error.code });
    }
    throw error;
  }
};

const cancel: RouteHandler = async (request) => {
  const { orderId } = pathParams(request.params, "orderId");
  try {
    const result = await Order.cancel(orderId, request.body ?? {}, request);
    count("order_cancel_total", { status: result.changed ? "canceled" : "already_canceled" });
    logger.info("order cancel", {
      request_id: request.requestId,
      order_id: orderId,
      user_id: result.order.userId,
      status_transition: result.statusTransition ?? null,
    });
    return { status: 200, body: result.order };
  } catch (error) {
    if (error instanceof DomainError) count("order_cancel_total", { status: error.code });
    throw error;
  }
};

export const routes: Record<string, RouteHandler> = {
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
