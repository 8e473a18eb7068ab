import { Order } from "../../core/order/index.js";
import { pathParams } from "../../core/validate.js";
import { httpApi, type ObservedResponse, type ObservedRoute, type RouteTable } from "../http/api.js";

const applyEvent: ObservedRoute = {
  async handle(request): Promise<ObservedResponse> {
    const { orderId } = pathParams(request.params, "orderId");
    const result = await Order.applyExternalEvent(orderId, request.body, request);
    return {
      status: 200,
      body: result.order,
      observe: {
        count: result.statusTransition?.endsWith("->CANCELED")
          ? [["order_cancel_total", { status: "payment_failed" }]]
          : [],
        log: {
          message: result.changed ? "order event applied" : "duplicate order event ignored",
          fields: {
            order_id: orderId,
            user_id: result.order.userId,
            status_transition: result.statusTransition ?? null,
          },
        },
      },
    };
  },
  rejected: (error) => ({
    count: error.code === "INVALID_TRANSITION" ? [["order_event_rejected_total", { source: "http" }]] : [],
  }),
};

export const routes: RouteTable = {
  "POST /internal/orders/{orderId}/events": applyEvent,
};

export const handler = httpApi(routes);
