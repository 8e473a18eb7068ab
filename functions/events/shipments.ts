import { orderEventTarget } from "./order-events.js";

export const { apply, handler } = orderEventTarget("shipments", "shipmentId", {
  "Shipment Ready": "READY_TO_SHIP",
  "Shipment Dispatched": "SHIPPED",
  "Shipment Delivered": "DELIVERED",
});
