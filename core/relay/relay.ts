export { create, newOrderNumber, type CreateResult } from "./create.js";
export { patch, applyEvent, FieldImmutableError, type ChangeResult } from "./change.js";
export {
  dispatch,
  dispatchNow,
  retry,
  RetryInput,
  RETRY_CONCURRENCY,
  type DispatchOptions,
  type DispatchOutcome,
  type DispatchResult,
  type DispatchTrigger,
  type RetryItemResult,
  type RetryResult,
  type SupplierPayload,
} from "./dispatch.js";
export { get, list, audit, failedPending, ListRelaysInput, ListAuditInput } from "./query.js";
export { putListing, getListing, putSupplier, getSupplier, ListingInput, SupplierInput, type Listing, type Supplier } from "./reference.js";
export { CreateRelayInput, PatchRelayInput, RelayEventInput, type Relay as Representation, type RelayAudit as AuditRecord, type LastError } from "./model.js";
export { RelayStatus, RelayEventType, transitions, terminalStatuses, next, frozenFrom, isMutable } from "./status.js";
export { findForbiddenData, assertNoForbiddenData, containsCardNumber, luhn, ForbiddenDataError } from "./forbidden.js";
export { sign, verify, SIGNATURE_HEADER } from "./signing.js";
