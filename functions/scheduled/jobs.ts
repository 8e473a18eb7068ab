/**
 * The scheduled jobs: each runs on an EventBridge schedule in AWS (stacks/Events.ts) and on a timer in the local
 * runtime (local/runtime.ts).
 */
export const scheduledJobs = [
  {
    name: "ExpireUnpaidOrders",
    description: "cancels orders left in PAYMENT_PENDING past their payment window (PAYMENT_TIMEOUT)",
    schedule: "rate(1 minute)",
    handler: "functions/scheduled/expire-payments.handler",
    // A sweep runs longer than a request; it stops taking work 5 s before this (deployed and local alike).
    timeoutSeconds: 120,
  },
] as const;
