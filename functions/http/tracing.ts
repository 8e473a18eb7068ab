import { isRunningInLambda } from "@aws-lambda-powertools/commons/utils/env";
import { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * X-Ray tracing, for the HTTP handlers only: they are the latency that callers see, and keeping the tracer (and the
 * X-Ray SDK it pulls in) out of the other functions keeps their bundles and cold starts small.
 */
export const tracer = new Tracer({
  serviceName: "orderline",
  enabled: isRunningInLambda(),
});
