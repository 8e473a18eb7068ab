import { describe, expect, it } from "vitest";
import { RelayEventType, RelayStatus, transitions } from "../../core/relay/status.js";
import { scanTable } from "../support/fixtures.js";
import { expectProblem, useRelaySuite } from "./support.js";

// The relay state machine, the immutability points of DS-4.1 §5.3 and the audit log, over real HTTP.

const suite = useRelaySuite();

const isoTime = (value: unknown) => typeof value === "string" && new Date(value).toISOString() === value;

const placeOrder = () => suite.kit.placeOrder(1000);

describe("state machine", () => {
  it("walks pending -> relayed -> confirmed -> shipped -> delivered -> refunded, stamping each step", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("accept");
    expect(relay.status).toBe("relayed");
    expect(isoTime(relay.relayedAt)).toBe(true);

    const confirmed = await suite.kit.event(relay.relayId, "SUPPLIER_CONFIRMED");
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe("confirmed");
    expect(isoTime(confirmed.body.confirmedAt)).toBe(true);

    const shipped = await suite.kit.event(relay.relayId, "SHIPPED", {
      shippingInfo: { carrier: "CJ Logistics", trackingNumber: "CJ-123" },
    });
    expect(shipped.status).toBe(200);
    expect(shipped.body).toMatchObject({
      status: "shipped",
      shippingInfo: { carrier: "CJ Logistics", trackingNumber: "CJ-123", address: "1 Sejong-daero, Seoul" },
    });
    expect(isoTime(shipped.body.shippedAt)).toBe(true);

    const delivered = await suite.kit.event(relay.relayId, "DELIVERED");
    expect(delivered.body.status).toBe("delivered");
    expect(isoTime(delivered.body.deliveredAt)).toBe(true);

    const refunded = await suite.kit.event(relay.relayId, "REFUNDED", {
      reason: "returned by buyer",
      requestedBy: "buyer",
    });
    expect(refunded.status).toBe(200);
    expect(refunded.body.status).toBe("refunded");
    expect(isoTime(refunded.body.refundedAt)).toBe(true);
    // Earlier stamps are kept: no state is rolled back.
    expect(refunded.body.relayedAt).toBe(relay.relayedAt);
    expect(refunded.body.shippedAt).toBe(shipped.body.shippedAt);
  });

  it("records a refund as a fact only: no call to the supplier, no payment, the ecommerce order untouched (DS-4.1 §1.2)", async () => {
    const orderId = await placeOrder();
    const orderBefore = (await suite.call("GET", `/api/v1/orders/${orderId}`)).body;
    const eventsBefore = (await suite.call("GET", `/api/v1/orders/${orderId}/events?limit=100`)).body.items;
    const relay = await suite.kit.relayIn("delivered", {
      externalOrderId: null,
      ecommerceOrderId: orderId,
      metadata: { source: "ecommerce" },
    });
    const sent = suite.supplier.requestsFor(relay.relayId).length;
    const refunded = await suite.kit.event(relay.relayId, "REFUNDED", {
      reason: "refunded by Payment Core",
      requestedBy: "payment-core",
    });
    expect(refunded.status).toBe(200);
    expect(suite.supplier.requestsFor(relay.relayId)).toHaveLength(sent);
    expect((await suite.call("GET", `/api/v1/orders/${orderId}`)).body).toEqual(orderBefore);
    expect((await suite.call("GET", `/api/v1/orders/${orderId}/events?limit=100`)).body.items).toEqual(eventsBefore);
    expect(refunded.body).not.toHaveProperty("refundAmount");
  });

  it.each(["pending", "relayed", "confirmed"])("cancels from %s with the reason", async (status) => {
    const relay = await suite.kit.relayIn(status);
    const cancelled = await suite.kit.event(
      relay.relayId,
      "CANCELLED",
      { reason: "buyer cancelled on the channel" },
      "cs-agent-7",
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", cancelReason: "buyer cancelled on the channel" });
    expect(isoTime(cancelled.body.cancelledAt)).toBe(true);
    const entry = (await suite.kit.audit(relay.relayId)).at(-1)!;
    expect(entry).toMatchObject({
      kind: "CANCELLATION",
      before: { status },
      after: { status: "cancelled", cancelReason: "buyer cancelled on the channel" },
      reason: "buyer cancelled on the channel",
      actor: "cs-agent-7",
      approvedBy: "cs-agent-7",
      requestedBy: "cs-agent-7",
    });
  });

  it("answers 409 INVALID_TRANSITION for every event a status does not allow, changing and auditing nothing", async () => {
    const relays = Object.fromEntries(
      await Promise.all(RelayStatus.map(async (status) => [status, await suite.kit.relayIn(status)] as const)),
    );
    let checked = 0;
    for (const status of RelayStatus) {
      const relay = relays[status]!;
      const auditBefore = (await suite.kit.audit(relay.relayId)).length;
      for (const type of RelayEventType) {
        if (transitions[status][type]) continue;
        const response = await suite.kit.event(relay.relayId, type, { reason: "test" });
        expectProblem(response, 409, "INVALID_TRANSITION");
        expect(response.body).toMatchObject({ currentStatus: status, event: type });
        checked++;
      }
      const after = await suite.kit.get(relay.relayId);
      expect(after.version).toBe(relay.version);
      expect(after.status).toBe(status);
      expect((await suite.kit.audit(relay.relayId)).length).toBe(auditBefore);
    }
    // 7 statuses x 5 events minus the 8 legal caller events.
    expect(checked).toBe(7 * 5 - 8);
  });

  it("dispatches only a pending relay: any other status is 409 INVALID_TRANSITION", async () => {
    for (const status of ["relayed", "cancelled"]) {
      const relay = await suite.kit.relayIn(status);
      const before = suite.supplier.requestsFor(relay.relayId).length;
      expectProblem(await suite.call("POST", `/internal/relays/${relay.relayId}/dispatch`), 409, "INVALID_TRANSITION");
      expect(suite.supplier.requestsFor(relay.relayId).length).toBe(before);
    }
  });

  it("validates events", async () => {
    const relay = await suite.kit.relayIn("relayed");
    expectProblem(await suite.kit.event(relay.relayId, "SUPPLIER_ACCEPTED"), 400, "VALIDATION_ERROR");
    expectProblem(await suite.kit.event(relay.relayId, "LOST"), 400, "VALIDATION_ERROR");
    expectProblem(
      await suite.kit.event(relay.relayId, "SUPPLIER_CONFIRMED", { requestedBy: "x" }),
      400,
      "VALIDATION_ERROR",
    );
  });

  it("lets exactly one of concurrent conflicting events win", async () => {
    const relay = await suite.kit.relayIn("confirmed");
    const responses = await Promise.all([
      suite.kit.event(relay.relayId, "SHIPPED"),
      suite.kit.event(relay.relayId, "CANCELLED", { reason: "race" }),
      suite.kit.event(relay.relayId, "SHIPPED"),
      suite.kit.event(relay.relayId, "CANCELLED", { reason: "race" }),
    ]);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect(r.body.code).toBe("INVALID_TRANSITION");
    const final = await suite.kit.get(relay.relayId);
    expect(final.version).toBe(relay.version + 1);
  });
});

describe("immutability points (DS-4.1 §5.3), enforced in the write", () => {
  async function expectImmutable(relayId: string, patch: Record<string, unknown>, field: string) {
    const before = await suite.kit.get(relayId);
    const auditBefore = (await suite.kit.audit(relayId)).length;
    const response = await suite.call("PATCH", `/internal/relays/${relayId}`, patch);
    expectProblem(response, 409, "FIELD_IMMUTABLE");
    expect(response.body.field).toBe(field);
    expect(response.body.detail).toContain(field);
    const after = await suite.kit.get(relayId);
    expect(after).toEqual(before);
    expect((await suite.kit.audit(relayId)).length).toBe(auditBefore);
  }

  async function expectPatched(relayId: string, patch: Record<string, unknown>, actor = "ops-tester") {
    const response = await suite.call("PATCH", `/internal/relays/${relayId}`, patch, { "x-actor": actor });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as Record<string, any>;
  }

  it("pending: quantity, customerInfo, shippingInfo and ecommerceOrderId change; totalPrice follows quantity", async () => {
    const relay = await suite.kit.relayIn("pending");
    const orderId = await placeOrder();
    const patched = await expectPatched(relay.relayId, {
      quantity: 5,
      customerInfo: { phone: "010-9999-0000" },
      shippingInfo: { carrier: "Hanjin" },
      ecommerceOrderId: orderId,
    });
    expect(patched).toMatchObject({
      quantity: 5,
      totalPrice: relay.unitPrice * 5,
      unitPrice: relay.unitPrice,
      customerInfo: { name: "Kim Minji", phone: "010-9999-0000" },
      shippingInfo: { carrier: "Hanjin", address: "1 Sejong-daero, Seoul" },
      ecommerceOrderId: orderId,
      version: relay.version + 1,
    });
  });

  it("listingId, unitPrice and totalPrice are never patchable (listing fixed at creation, prices copied from it)", async () => {
    const relay = await suite.kit.relayIn("pending");
    await expectImmutable(relay.relayId, { listingId: "lst-other" }, "listingId");
    await expectImmutable(relay.relayId, { unitPrice: 1 }, "unitPrice");
    await expectImmutable(relay.relayId, { totalPrice: 1 }, "totalPrice");
  });

  it("relayed: listingId, quantity, unitPrice, totalPrice frozen; the rest still changes", async () => {
    const relay = await suite.kit.relayIn("relayed");
    await expectImmutable(relay.relayId, { quantity: 7 }, "quantity");
    await expectImmutable(relay.relayId, { listingId: "lst-x" }, "listingId");
    await expectImmutable(relay.relayId, { unitPrice: 99 }, "unitPrice");
    await expectImmutable(relay.relayId, { totalPrice: 99 }, "totalPrice");
    await expectPatched(relay.relayId, { customerInfo: { name: "Kim M." }, shippingInfo: { trackingNumber: "T-1" } });
    const orderId = await placeOrder();
    expect((await expectPatched(relay.relayId, { ecommerceOrderId: orderId })).ecommerceOrderId).toBe(orderId);
  });

  it("confirmed: also ecommerceOrderId frozen", async () => {
    const relay = await suite.kit.relayIn("confirmed");
    const orderId = await placeOrder();
    await expectImmutable(relay.relayId, { ecommerceOrderId: orderId }, "ecommerceOrderId");
    await expectImmutable(relay.relayId, { quantity: 1 }, "quantity");
    await expectPatched(relay.relayId, { shippingInfo: { carrier: "Lotte", trackingNumber: "L-9" } });
  });

  it("shipped: also shippingInfo.carrier and shippingInfo.trackingNumber frozen; address and customerInfo still change", async () => {
    const relay = await suite.kit.relayIn("shipped");
    await expectImmutable(relay.relayId, { shippingInfo: { carrier: "Other" } }, "shippingInfo.carrier");
    await expectImmutable(relay.relayId, { shippingInfo: { trackingNumber: "X-2" } }, "shippingInfo.trackingNumber");
    await expectImmutable(
      relay.relayId,
      { shippingInfo: { carrier: "Other", address: "elsewhere" } },
      "shippingInfo.carrier",
    );
    await expectPatched(relay.relayId, {
      shippingInfo: { address: "2 Sejong-daero, Seoul" },
      customerInfo: { phone: "010-0000-1111" },
    });
    // Sending the frozen values unchanged is not a change.
    await expectPatched(relay.relayId, { shippingInfo: { carrier: "CJ", trackingNumber: "CJ-100" } });
  });

  it("shipped: a DELIVERED event cannot rewrite the carrier either", async () => {
    const relay = await suite.kit.relayIn("shipped");
    const response = await suite.kit.event(relay.relayId, "DELIVERED", { shippingInfo: { carrier: "Other" } });
    expectProblem(response, 409, "FIELD_IMMUTABLE");
    expect(response.body.field).toBe("shippingInfo.carrier");
    expect((await suite.kit.get(relay.relayId)).status).toBe("shipped");
  });

  it("delivered: every core field frozen", async () => {
    const relay = await suite.kit.relayIn("delivered");
    await expectImmutable(relay.relayId, { customerInfo: { phone: "x" } }, "customerInfo");
    await expectImmutable(relay.relayId, { shippingInfo: { address: "x" } }, "shippingInfo");
    await expectImmutable(relay.relayId, { quantity: 3 }, "quantity");
  });

  it.each(["cancelled", "refunded"])("%s: nothing changes", async (status) => {
    const relay = await suite.kit.relayIn(status);
    await expectImmutable(relay.relayId, { customerInfo: { phone: "x" } }, "customerInfo");
    await expectImmutable(relay.relayId, { shippingInfo: { address: "x" } }, "shippingInfo");
    await expectImmutable(relay.relayId, { quantity: 3 }, "quantity");
  });

  it("ecommerceOrderId is set once and never changed (DS-4.1 §8.2), must exist, and may back one relay only", async () => {
    const orderId = await placeOrder();
    const linked = await suite.kit.relayIn("pending", {
      externalOrderId: null,
      ecommerceOrderId: orderId,
      metadata: { source: "ecommerce" },
    });
    await expectImmutable(linked.relayId, { ecommerceOrderId: await placeOrder() }, "ecommerceOrderId");

    const other = await suite.kit.relayIn("pending");
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${other.relayId}`, { ecommerceOrderId: "01NOSUCHORDER" }),
      422,
      "ECOMMERCE_ORDER_NOT_FOUND",
    );
    const taken = await suite.call("PATCH", `/internal/relays/${other.relayId}`, { ecommerceOrderId: orderId });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("ECOMMERCE_ORDER_ALREADY_RELAYED");
    expect((await suite.kit.get(other.relayId)).ecommerceOrderId).toBeNull();
  });

  it("a PATCH racing a status change can never land a frozen field", async () => {
    /** Runs `request` and reports when it was sent and when its answer came back. */
    const timed = async <T>(request: () => Promise<T>) => {
      const sent = performance.now();
      const response = await request();
      return { response, sent, answered: performance.now() };
    };
    const race = async () => {
      const relay = await suite.kit.relayIn("relayed");
      const orderId = await placeOrder(); // ready before the race: nothing is awaited between the three requests
      const [confirm, link, contact] = await Promise.all([
        timed(() => suite.kit.event(relay.relayId, "SUPPLIER_CONFIRMED")),
        timed(() => suite.call("PATCH", `/internal/relays/${relay.relayId}`, { ecommerceOrderId: orderId })),
        timed(() => suite.call("PATCH", `/internal/relays/${relay.relayId}`, { customerInfo: { phone: "race" } })),
      ]);
      // They did race: every request was sent before any was answered.
      expect(Math.max(confirm.sent, link.sent, contact.sent)).toBeLessThan(
        Math.min(confirm.answered, link.answered, contact.answered),
      );

      expect(confirm.response.status).toBe(200);
      expect(contact.response.status, JSON.stringify(contact.response.body)).toBe(200); // customerInfo is not frozen at confirmed
      const final = await suite.kit.get(relay.relayId);
      expect(final.status).toBe("confirmed");
      expect(final.customerInfo.phone).toBe("race");
      // Either the link landed while relayed (before the confirmation), or it was refused as frozen.
      const linked = link.response.status === 200;
      if (!linked) expect(link.response.body.code, JSON.stringify(link.response.body)).toBe("FIELD_IMMUTABLE");
      expect(final.ecommerceOrderId).toBe(linked ? orderId : null);
      const audit = await suite.kit.audit(relay.relayId);
      const linkEntry = audit.find((a) => a.kind === "DATA_CHANGE" && a.after?.ecommerceOrderId);
      const confirmEntry = audit.find((a) => a.after?.status === "confirmed");
      expect(Boolean(linkEntry)).toBe(linked);
      if (linkEntry) expect(audit.indexOf(linkEntry)).toBeLessThan(audit.indexOf(confirmEntry!));
    };
    await Promise.all([race(), race(), race()]);
  });

  it("answers 400 for an empty or unknown PATCH", async () => {
    const relay = await suite.kit.relayIn("pending");
    expectProblem(await suite.call("PATCH", `/internal/relays/${relay.relayId}`, {}), 400, "VALIDATION_ERROR");
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { status: "delivered" }),
      400,
      "VALIDATION_ERROR",
    );
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { quantity: 0 }),
      400,
      "VALIDATION_ERROR",
    );
  });
});

describe("audit log (DS-4.1 §7.3)", () => {
  it("records every change with kind, before/after, actor and time, oldest first", async () => {
    const listing = await suite.kit.newListing();
    suite.supplier.behave(listing.listingId, "accept");
    const created = await suite.kit.create(listing.listingId, {}, { "x-actor": "channel-sync" });
    const relayed = await suite.kit.firstDispatch(created.relayId, "ops-dispatcher");
    expect(relayed.status).toBe("relayed");
    await suite.call(
      "PATCH",
      `/internal/relays/${created.relayId}`,
      { customerInfo: { phone: "010-2222-3333" } },
      { "x-actor": "cs-agent-1" },
    );
    await suite.kit.event(created.relayId, "SUPPLIER_CONFIRMED", {}, "supplier-bot");
    await suite.kit.event(
      created.relayId,
      "CANCELLED",
      { reason: "out of stock at supplier", requestedBy: "supplier:acme" },
      "ops-lead",
    );

    const audit = await suite.kit.audit(created.relayId);
    const dispatchActor = suite.autoDispatch ? "system:relay-dispatcher" : "ops-dispatcher";
    expect(audit.map((a) => [a.kind, a.actor])).toEqual([
      ["STATUS_CHANGE", "channel-sync"],
      ["EXTERNAL_CALL", dispatchActor],
      ["STATUS_CHANGE", dispatchActor],
      ["DATA_CHANGE", "cs-agent-1"],
      ["STATUS_CHANGE", "supplier-bot"],
      ["CANCELLATION", "ops-lead"],
    ]);
    for (const entry of audit) {
      expect(entry.relayId).toBe(created.relayId);
      expect(entry.listingId).toBe(listing.listingId);
      expect(entry.orderNumber).toBe(created.orderNumber);
      expect(isoTime(entry.createdAt)).toBe(true);
      expect(entry.auditId).toEqual(expect.any(String));
      expect(entry.requestId).toEqual(expect.any(String));
      expect(entry).not.toHaveProperty("publishAs");
      expect(entry).not.toHaveProperty("pk");
    }
    const times = audit.map((a) => a.createdAt);
    expect([...times].sort()).toEqual(times);
    const [creation, call1, relayedEntry, data, confirmed, cancellation] = audit;
    expect(creation).toMatchObject({
      before: null,
      after: { status: "pending", listingId: listing.listingId, quantity: 2 },
      status: "pending",
    });
    expect(call1).toMatchObject({
      success: true,
      attempt: 1,
      request: { method: "POST", idempotencyKey: created.relayId },
      response: { status: 202 },
    });
    expect(call1!.latencyMs).toEqual(expect.any(Number));
    expect(JSON.stringify(call1)).not.toContain("Kim Minji"); // summaries, not the payload
    expect(relayedEntry).toMatchObject({
      before: { status: "pending" },
      after: { status: "relayed" },
      status: "relayed",
    });
    expect(data).toMatchObject({
      before: { customerInfo: { phone: "010-1234-5678" } },
      after: { customerInfo: { phone: "010-2222-3333" } },
      status: "relayed",
    });
    expect(confirmed).toMatchObject({ before: { status: "relayed" }, after: { status: "confirmed" } });
    expect(cancellation).toMatchObject({
      reason: "out of stock at supplier",
      requestedBy: "supplier:acme",
      approvedBy: "ops-lead",
      before: { status: "confirmed" },
      after: { status: "cancelled" },
    });
    // One audited version per change: the relay's version counts them.
    expect((await suite.kit.get(created.relayId)).version).toBe(5);
  });

  it("stores publishable audit items for the stream publisher: relay ids, status and publishAs", async () => {
    const { relay } = await suite.kit.relayAfterFirstDispatch("fail");
    await suite.kit.event(relay.relayId, "CANCELLED", { reason: "gave up" });
    const items = (await scanTable()).filter((i) => i.entity === "RelayAudit" && i.relayId === relay.relayId);
    items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    expect(items.map((i) => [i.kind, i.status, i.publishAs ?? null])).toEqual([
      ["STATUS_CHANGE", "pending", "RELAY_CREATED"],
      ["EXTERNAL_CALL", "pending", "RELAY_SEND_FAILED"],
      ["CANCELLATION", "cancelled", "RELAY_STATUS_CHANGED"],
    ]);
    for (const item of items) {
      expect(item).toMatchObject({
        relayId: relay.relayId,
        listingId: relay.listingId,
        orderNumber: relay.orderNumber,
      });
    }
  });

  it("writes each change and its audit entry in one transaction: a refused change leaves neither", async () => {
    const relay = await suite.kit.relayIn("shipped");
    const before = (await scanTable()).filter((i) => i.relayId === relay.relayId).length;
    expectProblem(
      await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { quantity: 9 }),
      409,
      "FIELD_IMMUTABLE",
    );
    expectProblem(await suite.kit.event(relay.relayId, "CANCELLED"), 409, "INVALID_TRANSITION");
    expect((await scanTable()).filter((i) => i.relayId === relay.relayId).length).toBe(before);
  });
});
