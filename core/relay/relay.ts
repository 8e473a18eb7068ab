export { applyEvent, patch } from "./change.js";
export { create } from "./create.js";
export {
  type DispatchResult,
  dispatch,
  dispatchOnDemand,
  RETRY_CONCURRENCY,
  RetryInput,
  type RetryResult,
  retry,
} from "./dispatch.js";
export { CreateRelayInput, PatchRelayInput, RelayEventInput } from "./model.js";
export { audit, get, ListAuditInput, ListRelaysInput, list } from "./query.js";
export {
  getListing,
  getSupplier,
  ListingInput,
  listingOfSku,
  putListing,
  putSupplier,
  SupplierInput,
} from "./reference.js";
export { issueSecret, parseSecret, signedHeaders, verifySignature } from "./secrets.js";
export { RelayStatus } from "./status.js";
export { InvalidSignatureError, receiveSupplierWebhook, SupplierWebhookBody, type WebhookResult } from "./webhook.js";
