/**
 * Domain errors carry a stable UPPER_SNAKE `code` (see ../shared/contract.md). The HTTP layer maps codes to
 * status codes and problem+json; the domain never knows about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super("VALIDATION_ERROR", message, { errors: issues });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string, code = "NOT_FOUND") {
    super(code, `${what} ${id} was not found`);
  }
}

export class InvalidTransitionError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("INVALID_TRANSITION", message, details);
  }
}

export interface PriceChange {
  skuId: string;
  expectedOfferId: string;
  expectedUnitPrice: number;
  currentOfferId: string | null;
  currentUnitPrice: number | null;
  /** Present when the offer is in another currency than the order. */
  expectedCurrency?: string;
  currentCurrency?: string | null;
}

export class PriceChangedError extends DomainError {
  constructor(items: PriceChange[]) {
    super(
      "PRICE_CHANGED",
      `${items.length} line(s) no longer match the current offer; re-approve the prices and retry`,
      { items },
    );
  }
}

export class OfferUnavailableError extends DomainError {
  constructor(skuIds: string[]) {
    super("OFFER_UNAVAILABLE", `no current offer for ${skuIds.join(", ")}`, {
      items: skuIds.map((skuId) => ({ skuId })),
    });
  }
}

export interface StockShortage {
  skuId: string;
  requested: number;
  available: number;
}

export class OutOfStockError extends DomainError {
  constructor(items: StockShortage[]) {
    super("OUT_OF_STOCK", `not enough stock for ${items.map((i) => i.skuId).join(", ")}`, { items });
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super("IDEMPOTENCY_KEY_REUSED", "this idempotency key was already used with a different request");
  }
}

/** Raised when optimistic retries are exhausted; the caller may retry the whole request. */
export class ConcurrencyError extends DomainError {
  constructor(message: string) {
    super("CONCURRENT_MODIFICATION", message);
  }
}

/**
 * DynamoDB kept throttling after bounded retries: a capacity answer, never a business one. The same request (same
 * idempotency key included) is safe to send again after `retryAfterSeconds`.
 */
export class CapacityExceededError extends DomainError {
  constructor(message = "the order store is at capacity; retry shortly", retryAfterSeconds = 1) {
    super("CAPACITY_EXCEEDED", message, { retryAfterSeconds });
  }
}

/** Errors that a later delivery of the same work may not meet again: retry, never treat as a business answer. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof DomainError && (error.code === "CAPACITY_EXCEEDED" || error.code === "CONCURRENT_MODIFICATION")
  );
}
