export { CheckoutFields, CheckoutInput, type CheckoutResult, checkout, IdempotencyKey } from "./checkout.js";
export {
  type ExpirySweep,
  expireOverduePayments,
  type ReservationDrift,
  reconcileReservations,
} from "./maintenance.js";
export { Order as Representation, OrderEvent as EventRecord, summarize } from "./model.js";
export { events, get, ListEventsInput, ListOrdersInput, listByUser } from "./query.js";
export { SUPPLIER_CANCELLED, type SyncResult, syncOrderWithRelay } from "./relay-sync.js";
export { next, OrderEventType, OrderStatus, plan, terminalStatuses, transitions } from "./status.js";
export {
  applyExternalEvent,
  CancelInput,
  cancel,
  ExternalOrderEventInput,
  expirePayment,
  type TransitionResult,
} from "./transition.js";
