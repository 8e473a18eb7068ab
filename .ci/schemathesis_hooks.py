"""schemathesis hooks of .ci/fuzz-api.sh: the request rules a JSON Schema cannot state, applied to the
schema-valid (positive) cases only, so the fuzzer does not call a correct 400 a failure. Negative cases are left
as drawn. Each rule is listed in docs/fuzzing.md."""
import secrets

import schemathesis

# GET /internal/relays takes one of these (core/relay/query.ts); query parameters cannot say "one of".
RELAY_LIST_SELECTORS = ("listingId", "status", "needsAttention")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    operation = f"{case.method.upper()} {case.operation.path}"
    query = case.query if isinstance(case.query, dict) else None
    # A cursor is an opaque token the server issued for that very list: a drawn one is rightly a 400.
    if query is not None and "cursor" in query:
        del query["cursor"]
    if operation == "GET /internal/relays" and query is not None and not any(query.get(name) for name in RELAY_LIST_SELECTORS):
        query["status"] = "pending"
    # Checkout needs the key in the body or in the Idempotency-Key header (equal when both): across a header and a
    # body field, which OpenAPI cannot correlate.
    if operation == "POST /api/v1/orders" and isinstance(case.body, dict):
        headers = case.headers if case.headers is not None else {}
        header = next((value for name, value in headers.items() if name.lower() == "idempotency-key"), None)
        if "idempotencyKey" in case.body and header is not None and header != case.body["idempotencyKey"]:
            headers = {name: value for name, value in headers.items() if name.lower() != "idempotency-key"}
        elif "idempotencyKey" not in case.body and header is None:
            headers["Idempotency-Key"] = f"fuzz-{secrets.token_hex(8)}"
        case.headers = headers
