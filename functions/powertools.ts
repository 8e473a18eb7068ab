import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";

/** The one logger, metrics and tracer of every handler (the local runtime uses the same ones). */
export const logger = new Logger({ serviceName: "orderline" });
export const metrics = new Metrics({ namespace: "Orderline", serviceName: "orderline" });
export const tracer = new Tracer({
  serviceName: "orderline",
  enabled: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined,
});

/**
 * Emits one count right away. A single-metric flush per emission keeps dimensions of concurrent requests
 * apart (the local runtime serves many requests in one process).
 */
export function count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  const single = metrics.singleMetric();
  for (const [key, val] of Object.entries(dimensions)) single.addDimension(key, val);
  single.addMetric(name, MetricUnit.Count, value);
}
