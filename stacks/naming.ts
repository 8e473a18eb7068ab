import type { App } from "sst/constructs";

/**
 * Physical names that other stacks (and the functions' environment) need before the resource exists. They
 * follow SST's `${stage}-${app}-${name}` convention, so two stages never collide in one account, and they are
 * plain strings: a function in another stack can be granted access to the table without a cross-stack export.
 */
export const tableName = (app: App) => app.logicalPrefixedName("Table");
export const eventBusName = (app: App) => app.logicalPrefixedName("Bus");

/**
 * Stages whose data must outlive the stack: the table is retained on `sst remove` and has deletion protection.
 * Every other stage ("dev", personal stages, "test", CI previews) is disposable and is destroyed with its stack.
 */
export const isProtectedStage = (stage: string) => stage === "prod" || stage === "staging";

/** Retention of every log group (functions' and the API access log), as SST's lowercase RetentionDays key. */
export type LogRetention = "one_week" | "one_month";

export interface StagePolicy {
  /** Logs are for debugging and incident review: a month where incidents happen, a week elsewhere. */
  logRetention: LogRetention;
  /**
   * What `sst remove` does to log groups and dead-letter queues. A protected stage keeps them (the DLQs may hold
   * the only copy of an event nobody processed); a disposable stage leaves nothing behind in the account.
   */
  retainOnDelete: boolean;
  /**
   * Default throttle of every route of the HTTP API (requests per second, steady and burst). The account's
   * regional API Gateway quota (10,000 rps, burst 5,000 by default) is shared by every API in the account, so a
   * protected stage takes at most half of it and a disposable stage, which only sees tests, a small slice: a
   * runaway client or load test there gets 429s instead of starving the other APIs or running up a bill.
   */
  apiThrottle: { rate: number; burst: number };
  /** Limits of the one unauthenticated route (supplier webhooks), so forged traffic cannot use up the stage's. */
  webhookThrottle: { rate: number; burst: number };
}

export function stagePolicy(stage: string): StagePolicy {
  return isProtectedStage(stage)
    ? {
        logRetention: "one_month",
        retainOnDelete: true,
        apiThrottle: { rate: 5_000, burst: 2_500 },
        webhookThrottle: { rate: 500, burst: 250 },
      }
    : {
        logRetention: "one_week",
        retainOnDelete: false,
        apiThrottle: { rate: 100, burst: 200 },
        webhookThrottle: { rate: 20, burst: 40 },
      };
}
