import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { next, type OrderCommand, type OrderStatus, plan, terminalStatuses, transitions } from "./status.js";

const commands: OrderCommand[] = [
  "PAYMENT_REQUESTED",
  "PAYMENT_SUCCEEDED",
  "PAYMENT_FAILED",
  "ORDER_CANCELED",
  "READY_TO_SHIP",
  "SHIPPED",
  "DELIVERED",
  "REFUND_REQUESTED",
  "REFUNDED",
];

/** The contract's diagram, written out edge by edge, independently of the transition table. */
const allowedEdges = new Set([
  "CREATED>PAYMENT_PENDING",
  "PAYMENT_PENDING>PAID",
  "PAID>READY_TO_SHIP",
  "READY_TO_SHIP>SHIPPED",
  "SHIPPED>DELIVERED",
  "CREATED>CANCELED",
  "PAYMENT_PENDING>CANCELED",
  "PAID>REFUND_PENDING",
  "READY_TO_SHIP>REFUND_PENDING",
  "SHIPPED>REFUND_PENDING",
  "DELIVERED>REFUND_PENDING",
  "REFUND_PENDING>REFUNDED",
]);

describe("order state machine", () => {
  it("follows the contract's happy path", () => {
    expect(next("PAYMENT_PENDING", "PAYMENT_SUCCEEDED")).toBe("PAID");
    expect(next("PAID", "READY_TO_SHIP")).toBe("READY_TO_SHIP");
    expect(next("READY_TO_SHIP", "SHIPPED")).toBe("SHIPPED");
    expect(next("SHIPPED", "DELIVERED")).toBe("DELIVERED");
    expect(next("DELIVERED", "REFUND_REQUESTED")).toBe("REFUND_PENDING");
    expect(next("REFUND_PENDING", "REFUNDED")).toBe("REFUNDED");
  });

  it("refuses shortcuts", () => {
    expect(next("PAYMENT_PENDING", "SHIPPED")).toBeUndefined();
    expect(next("PAID", "ORDER_CANCELED")).toBeUndefined();
    expect(next("CREATED", "REFUNDED")).toBeUndefined();
  });

  it("has exactly CANCELED and REFUNDED as terminal states", () => {
    expect([...terminalStatuses].sort()).toEqual(["CANCELED", "REFUNDED"]);
  });

  it("plans a payment failure as PAYMENT_FAILED, ORDER_CANCELED, INVENTORY_RELEASED with a release", () => {
    const planned = plan("PAYMENT_PENDING", "PAYMENT_FAILED", true);
    expect(planned?.events.map((e) => e.type)).toEqual(["PAYMENT_FAILED", "ORDER_CANCELED", "INVENTORY_RELEASED"]);
    expect(planned?.reservation).toBe("release");
  });

  it("plans a cancel as ORDER_CANCELED + INVENTORY_RELEASED", () => {
    const planned = plan("CREATED", "ORDER_CANCELED", true);
    expect(planned?.events.map((e) => e.type)).toEqual(["ORDER_CANCELED", "INVENTORY_RELEASED"]);
  });

  it("consumes the reservation on SHIPPED and releases it on a refund of goods never shipped", () => {
    expect(plan("READY_TO_SHIP", "SHIPPED", true)?.reservation).toBe("consume");
    expect(plan("REFUND_PENDING", "REFUNDED", true)?.reservation).toBe("release");
    expect(plan("REFUND_PENDING", "REFUNDED", false)?.reservation).toBe("none");
  });

  it("property: no sequence of events reaches a status the contract forbids, terminal states absorb everything", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...commands), { maxLength: 40 }), (sequence) => {
        let status: (typeof OrderStatus)[number] = "CREATED";
        let held = true;
        for (const command of sequence) {
          const planned = plan(status, command, held);
          if (!planned) {
            expect(transitions[status][command]).toBeUndefined();
            continue;
          }
          const to = planned.events.at(-1)!.toStatus;
          expect(terminalStatuses).not.toContain(status);
          expect(allowedEdges.has(`${status}>${to}`)).toBe(true);
          // the events of one transition chain: each starts where the previous ended
          let at = status;
          for (const event of planned.events) {
            expect(event.fromStatus).toBe(at);
            at = event.toStatus;
          }
          if (planned.reservation !== "none") held = false;
          status = to;
        }
        if (terminalStatuses.includes(status)) for (const c of commands) expect(plan(status, c, held)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
