import { isRunningInLambda } from "@aws-lambda-powertools/commons/utils/env";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { config } from "../core/config.js";

/** The one logger and metrics of every handler (the local runtime uses the same ones). */
export const logger = new Logger({ serviceName: "orderline" });
export const metrics = new Metrics({ namespace: "Orderline", serviceName: "orderline" });

// In AWS the configuration is read and checked while the function initializes: a bad value fails the cold start
// with a message naming the variable, before any request is taken. Elsewhere the local runtime sets the
// environment first, and the first use reads it.
if (isRunningInLambda()) config();

/**
 * Emits one count right away. A single-metric flush per emission keeps dimensions of concurrent requests
 * apart (the local runtime serves many requests in one process).
 */
export function count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  const single = metrics.singleMetric();
  for (const [key, val] of Object.entries(dimensions)) single.addDimension(key, val);
  single.addMetric(name, MetricUnit.Count, value);
}
