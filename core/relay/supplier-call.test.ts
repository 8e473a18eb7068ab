import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withEnv } from "../../test/support/env.js";
import { runWithinDeadline } from "../retry.js";
import { postToSupplier, type SupplierPayload } from "./supplier-call.js";

/** A supplier that takes the request and never answers. */
let hanging: Server;
let url: string;

beforeAll(async () => {
  hanging = createServer(() => undefined);
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/orders`;
});

afterAll(async () => {
  hanging.closeAllConnections();
  await new Promise((resolve) => hanging.close(resolve));
});

const payload: SupplierPayload = {
  relayId: "R1",
  orderNumber: "O1",
  listingId: "L1",
  supplierOfferId: "S1",
  quantity: 1,
  customerInfo: {},
  shippingInfo: {},
};

describe("the supplier call on the wire", () => {
  it("retries a hanging supplier quickly, each try cut at the configured timeout", async () => {
    const sent = await withEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "100", ORDERLINE_SUPPLIER_RETRY_DELAY_MS: "0" }, () =>
      postToSupplier(url, payload, "secret", undefined),
    );
    expect(sent.tries).toHaveLength(3);
    expect(sent.result).toEqual({ kind: "failed", message: "supplier did not answer within 100 ms (outcome unknown)" });
  });

  it("never waits for the supplier past the invocation's deadline, however long the configured timeout", async () => {
    const sent = await withEnv({ ORDERLINE_SUPPLIER_TIMEOUT_MS: "5000", ORDERLINE_SUPPLIER_RETRY_DELAY_MS: "0" }, () =>
      runWithinDeadline(Date.now() + 300, () => postToSupplier(url, payload, "secret", undefined)),
    );
    // One try, cut at the deadline (not at 5 s); no retry is started past it.
    expect(sent.tries).toHaveLength(1);
    const waited = Number(/within (\d+) ms/.exec(sent.result.kind === "failed" ? sent.result.message : "")?.[1]);
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(300);
    expect(sent.tries[0]!.latencyMs).toBeLessThan(5_000);
  });
});
