export { checkout, CheckoutFields, CheckoutInput, IdempotencyKey, type CheckoutResult } from "./checkout.js";
export { applyExternalEvent, cancel, expirePayment, ExternalOrderEventInput, CancelInput, type TransitionResult } from "./transition.js";
export { get, listByUser, events, ListOrdersInput, ListEventsInput } from "./query.js";
export { Order as Representation, OrderEvent as EventRecord, summarize } from "./model.js";
export { OrderStatus, OrderEventType, next, plan, transitions, terminalStatuses } from "./status.js";
export { expireOverduePayments, reconcileReservations, type ReservationDrift, type ExpirySweep } from "./maintenance.js";
export { syncOrderWithRelay, SUPPLIER_CANCELLED, type SyncResult } from "./relay-sync.js";
