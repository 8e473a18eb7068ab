import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Log at INFO before any handler module (and so the shared Powertools logger) is loaded.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

import type { LocalRuntime } from "../../local/runtime.js";
import { client, startTestRuntime } from "../support/runtime.js";

let runtime: LocalRuntime;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  call = client(runtime.url);
});

afterAll(async () => {
  await runtime?.stop();
});

/** The JSON log lines written to stdout while `fn` runs. */
async function captureLogLines(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  });
  try {
    await fn();
  } finally {
    out.mockRestore();
  }
  return chunks
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("log lines on the local runtime", () => {
  it("name their own function and invocation under concurrent requests to different functions", async () => {
    const n = 15;
    const lines = await captureLogLines(async () => {
      const requests = Array.from({ length: n }, (_, i) => [
        // orders function: logs "checkout rejected" (no offer for the SKU)
        call(
          "POST",
          "/api/v1/orders",
          {
            userId: "u-log",
            idempotencyKey: `k-log-${i}`,
            items: [{ skuId: `sku-none-${i}`, qty: 1, offerId: "o", unitPrice: 1 }],
            currency: "KRW",
            shippingAddressId: "a",
            paymentMethod: "CARD",
          },
          { "x-request-id": `orders-${i}` },
        ),
        // relays function: logs "relay create rejected" (unknown listing)
        call(
          "POST",
          "/internal/relays",
          { listingId: `lst-none-${i}`, quantity: 1, externalOrderId: `ext-${i}` },
          { "x-request-id": `relays-${i}` },
        ),
      ]);
      const responses = await Promise.all(requests.flat());
      expect(responses.map((r) => r.status)).toEqual(Array.from({ length: n }, () => [409, 404]).flat());
    });

    const byRequest = lines.filter(
      (l) => typeof l.request_id === "string" && /^(orders|relays)-\d+$/.test(l.request_id as string),
    );
    expect(byRequest.filter((l) => (l.request_id as string).startsWith("orders-")).length).toBeGreaterThanOrEqual(n);
    expect(byRequest.filter((l) => (l.request_id as string).startsWith("relays-")).length).toBeGreaterThanOrEqual(n);
    const invocations = new Map<string, Set<unknown>>();
    for (const line of byRequest) {
      const requestId = line.request_id as string;
      expect(line.function_name, `${line.message} of ${requestId}`).toBe(
        requestId.startsWith("orders-") ? "orderline-orders" : "orderline-relays",
      );
      invocations.set(requestId, (invocations.get(requestId) ?? new Set()).add(line.function_request_id));
    }
    // Each request's lines carry one invocation id, and no two requests share one.
    const ids = [...invocations.values()].map((set) => [...set]);
    for (const set of ids) expect(set).toHaveLength(1);
    expect(new Set(ids.flat()).size).toBe(invocations.size);
  });
});
