export { create } from "./create.js";
export { patch, applyEvent } from "./change.js";
export { dispatch, dispatchNow, retry, RetryInput, RETRY_CONCURRENCY, type DispatchResult, type RetryResult } from "./dispatch.js";
export { get, list, audit, ListRelaysInput, ListAuditInput } from "./query.js";
export { putListing, getListing, putSupplier, getSupplier, ListingInput, SupplierInput } from "./reference.js";
export { CreateRelayInput, PatchRelayInput, RelayEventInput } from "./model.js";
export { RelayStatus } from "./status.js";
