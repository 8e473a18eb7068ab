import { beforeAll, describe, expect, it } from "vitest";
import { Order } from "../../core/order/index.js";
import { checkoutRequest, seedSku, who } from "../support/fixtures.js";
import { freshTable } from "../support/table.js";

beforeAll(async () => {
  await freshTable("relaysync");
});

async function paidOrder(): Promise<string> {
  const sku = await seedSku({ onHand: 50 });
  const { order } = await Order.checkout(checkoutRequest([sku]), who);
  await Order.applyExternalEvent(order.orderId, { type: "PAYMENT_SUCCEEDED", externalId: `pay-${order.orderId}` }, who);
  return order.orderId;
}

const relayEvent = (status: string, n: number) => ({ relayId: "r-1", status, auditId: `audit-${status}-${n}` });

describe("an order follows its relay", () => {
  it("reaches DELIVERED when confirmed, shipped and delivered are handled side by side", async () => {
    for (let n = 0; n < 5; n++) {
      const orderId = await paidOrder();
      await Promise.all(
        ["confirmed", "shipped", "delivered"].map((status) =>
          Order.syncOrderWithRelay(orderId, relayEvent(status, n), who),
        ),
      );
      const order = await Order.get(orderId);
      expect(order.status).toBe("DELIVERED");
      const types = (await Order.events(orderId, { limit: 100 })).items.map((e) => e.type);
      expect(types.slice(3)).toEqual(["PAYMENT_SUCCEEDED", "READY_TO_SHIP", "SHIPPED", "DELIVERED"]);
    }
  });

  it("refunds on a supplier cancellation only before the order shipped", async () => {
    const early = await paidOrder();
    await Order.syncOrderWithRelay(early, relayEvent("cancelled", 1), who);
    expect((await Order.get(early)).status).toBe("REFUND_PENDING");
    const late = await paidOrder();
    await Order.syncOrderWithRelay(late, relayEvent("shipped", 2), who);
    const result = await Order.syncOrderWithRelay(late, relayEvent("cancelled", 2), who);
    expect(result.applied).toEqual([]);
    expect((await Order.get(late)).status).toBe("SHIPPED");
  });
});
