import type { Config } from "sst/constructs";

/**
 * The handlers (SST notation, as in functions/routes.ts, functions/events/rules.ts and functions/admin/functions.ts) that sign requests to
 * suppliers or verify what suppliers send, and therefore read SUPPLIER_SIGNING_SECRET (the master the per-supplier
 * secrets are derived from). Only these get the secret bound (env placeholder and
 * `ssm:GetParameters` on its one parameter); every other function never sees it.
 */
export const supplierSecretHandlers: ReadonlySet<string> = new Set([
  "functions/relay/dispatch.handler", // RELAY_CREATED rule target
  "functions/admin/relay-retry.handler", // admin RelayRetry function
  "functions/internal/relays.handler", // route group "relays": POST /internal/relays/{relayId}/dispatch
  "functions/admin/http.handler", // route group "admin": POST /admin/relays/retry
  "functions/webhooks/suppliers.handler", // route group "webhooks": verifies supplier signatures (derived secrets)
]);

export const needsSupplierSecret = (handler: string) => supplierSecretHandlers.has(handler);

export type SupplierSecret = InstanceType<typeof Config.Secret>;
