import { orderEventTarget } from "./order-events.js";

export const { apply, handler } = orderEventTarget("payments", "paymentId", {
  "Payment Succeeded": "PAYMENT_SUCCEEDED",
  "Payment Failed": "PAYMENT_FAILED",
  "Refund Succeeded": "REFUNDED",
});
