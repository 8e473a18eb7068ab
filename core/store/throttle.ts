import type { CancellationReason } from "@aws-sdk/client-dynamodb";
import { CapacityExceededError } from "../errors.js";

/** DynamoDB's throttling answers, for single requests and as cancellation reasons of a transaction. */
const THROTTLING_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);
const THROTTLING_REASONS = new Set(["ThrottlingError", "ProvisionedThroughputExceeded"]);

export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_ERRORS.has(error.name);
}

export function isThrottledTransaction(reasons: CancellationReason[] | undefined): boolean {
  return (reasons ?? []).some((r) => r.Code !== undefined && THROTTLING_REASONS.has(r.Code));
}

/** What the caller sees once the retries inside its time budget are spent. */
export function capacityExceeded(cause: unknown): CapacityExceededError {
  const error = new CapacityExceededError();
  error.cause = cause;
  return error;
}
