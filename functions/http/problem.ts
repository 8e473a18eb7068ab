/** HTTP status of each domain error code; anything unknown is a bug and becomes a bare 500. */
export const statusOfCode: Record<string, number> = {
  VALIDATION_ERROR: 400,
  FORBIDDEN_DATA: 400,
  INVALID_SIGNATURE: 401,
  NOT_FOUND: 404,
  CART_NOT_FOUND: 404,
  LISTING_NOT_FOUND: 404,
  SUPPLIER_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  INVALID_TRANSITION: 409,
  PRICE_CHANGED: 409,
  OFFER_UNAVAILABLE: 409,
  OUT_OF_STOCK: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  ECOMMERCE_ORDER_ALREADY_RELAYED: 409,
  CONCURRENT_MODIFICATION: 409,
  STOCK_BELOW_RESERVED: 409,
  FIELD_IMMUTABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  ECOMMERCE_ORDER_NOT_FOUND: 422,
  RELAY_SEND_FAILED: 502,
  CAPACITY_EXCEEDED: 503,
  INTERNAL: 500,
};

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** An RFC 9457 problem document; `type` is a stable URN per code. */
export function problem(code: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const status = statusOfCode[code] ?? 500;
  return {
    ...extensions,
    type: `urn:orderline:problem:${code.toLowerCase().replaceAll("_", "-")}`,
    title: titleOf(status),
    status,
    detail,
    code,
  };
}

/** The reason phrase of a status this service answers with. */
export function titleOf(status: number): string {
  return titles[status] ?? "Error";
}
