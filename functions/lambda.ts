import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { runWithinDeadline } from "../core/retry.js";
import { logger } from "./powertools.js";

/** Time kept back from the function's timeout: the answer, the log flush and the last write still fit in it. */
export const DEADLINE_MARGIN_MS = 1_000;

/**
 * Runs the handler as one invocation whose deadline is the Lambda's remaining time less {@link DEADLINE_MARGIN_MS}:
 * every retry loop inside it (core/retry.ts) gives up before the function would be killed mid-write.
 */
export function withinInvocation<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return (event: E, context: Context): Promise<R> => {
    if (typeof context?.getRemainingTimeInMillis !== "function") return fn(event, context);
    const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
    return runWithinDeadline(deadline, () => fn(event, context));
  };
}

/** A Lambda handler: its invocation's deadline, and the invocation's context on every log line. */
export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy(withinInvocation(fn)).use(injectLambdaContext(logger));
}
