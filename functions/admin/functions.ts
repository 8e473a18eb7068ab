/**
 * Functions admins invoke directly (no route, no rule), deployed by stacks/Events.ts with their names in its
 * outputs, and a timeout (s) long enough for a large batch or a whole-table scan. The admin HTTP routes are in
 * functions/routes.ts.
 */
export const adminFunctions = [
  {
    name: "RelayRetry",
    description: "re-dispatches named relays or every pending relay with lastError",
    handler: "functions/admin/relay-retry.handler",
    timeoutSeconds: 300,
  },
  {
    name: "ReconcileReservations",
    description: "recomputes each SKU's reserved from live reservations",
    handler: "functions/admin/reconcile.handler",
    timeoutSeconds: 300,
  },
] as const;
