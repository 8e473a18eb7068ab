import type { EventBridgeEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkoutRequest, seedSku, upstreamEvent, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

// Powertools reads these when its modules load, so they are set before the handlers are imported.
process.env.POWERTOOLS_METRICS_DISABLED = "false";
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

const lines: string[] = [];
let apply: (event: EventBridgeEvent<string, unknown>) => Promise<{ outcome: string }>;
let Order: typeof import("../../core/order/index.js").Order;

/** Every `order_event_rejected_total` EMF document written since the test began, with its dimensions. */
function rejectedMetrics(): Record<string, unknown>[] {
  return lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((doc) => "_aws" in doc && "order_event_rejected_total" in doc);
}

beforeAll(async () => {
  await freshTable("rejected");
  ({ apply } = await import("../../functions/events/payments.js"));
  ({ Order } = await import("../../core/order/index.js"));
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe("order_event_rejected_total (an upstream event the order cannot take is counted, not retried)", () => {
  it("is emitted with source and reason INVALID_TRANSITION for a payment on a cancelled order, and the event is acknowledged", async () => {
    const sku = await seedSku();
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    await Order.cancel(order.orderId, {}, who);
    lines.length = 0;

    const result = await apply(
      upstreamEvent("payments", "Payment Succeeded", { orderId: order.orderId, paymentId: `pay-${order.orderId}` }),
    );
    expect(result).toEqual({ outcome: "rejected" });
    const metrics = rejectedMetrics();
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({
      order_event_rejected_total: 1,
      source: "payments",
      reason: "INVALID_TRANSITION",
    });
    expect((await Order.get(order.orderId)).status).toBe("CANCELED");
  });

  it("is emitted with reason MALFORMED for an event without its payment id, which is then sent to the DLQ (thrown)", async () => {
    lines.length = 0;
    await expect(apply(upstreamEvent("payments", "Payment Succeeded", { orderId: "01ANYORDER" }))).rejects.toThrow(
      /malformed/,
    );
    expect(rejectedMetrics()).toEqual([
      expect.objectContaining({ order_event_rejected_total: 1, source: "payments", reason: "MALFORMED" }),
    ]);
  });

  it("is not emitted for an event that applies", async () => {
    const sku = await seedSku();
    const { order } = await Order.checkout(checkoutRequest([sku]), who);
    lines.length = 0;
    expect(
      await apply(
        upstreamEvent("payments", "Payment Succeeded", { orderId: order.orderId, paymentId: `pay-${order.orderId}` }),
      ),
    ).toEqual({ outcome: "applied" });
    expect(rejectedMetrics()).toEqual([]);
  });
});
