import { isRunningInLambda } from "@aws-lambda-powertools/commons/utils/env";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { Context } from "aws-lambda";
import { lambdaHandler } from "./lambda.js";

/**
 * X-Ray tracing where it pays: the HTTP handlers (the latency callers see) and the functions that call suppliers
 * (the RELAY_CREATED dispatcher, the RelayRetry function), whose outbound calls the tracer records. Keeping the
 * tracer (and the X-Ray SDK it pulls in) out of the other functions keeps their bundles and cold starts small.
 */
export const tracer = new Tracer({
  serviceName: "orderline",
  enabled: isRunningInLambda(),
});

/** A {@link lambdaHandler} that is also traced. */
export function tracedHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return lambdaHandler(fn).use(captureLambdaHandler(tracer));
}
