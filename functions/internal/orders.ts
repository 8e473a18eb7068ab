import { DomainError } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { pathParams } from "../../core/validate.js";
import { httpApi, type RouteHandler } from "../http/api.js";
import { count, logger } from "../powertools.js";

const applyEvent: RouteHandler = async (request) => {
  const { orderId } = pathParams(request.params, "orderId");
  try {
    const result = await Order.applyExternalEvent(orderId, request.body, request);
    logger.info(result.changed ? "order event applied" : "duplicate order event ignored", {
      request_id: request.requestId,
      order_id: orderId,
      user_id: result.order.userId,
      status_transition: result.statusTransition ?? null,
    });
    if (result.statusTransition?.endsWith("->CANCELED")) count("order_cancel_total", { status: "payment_failed" });
    return { status: 200, body: result.order };
  } catch (error) {
    if (error instanceof DomainError && error.code === "INVALID_TRANSITION")
      count("order_event_rejected_total", { source: "http" });
    throw error;
  }
};

export const routes: Record<string, RouteHandler> = {
  "POST /internal/orders/{orderId}/events": applyEvent,
};

export const handler = httpApi(routes);
