/**
 * The metric namespace and service name the handlers emit under (functions/powertools.ts). Powertools adds the
 * service as a `service` dimension to every metric, so dashboards and alarms must select on it too.
 */
export const METRICS_NAMESPACE = "Orderline";
export const SERVICE_NAME = "orderline";
export const serviceDimension = { service: SERVICE_NAME } as const;
