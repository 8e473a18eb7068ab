import { describe, expect, it } from "vitest";
import { useRelaySuite } from "./support.js";

// An audit entry records what a change touched, not whole copies of the objects it changed: it stays small
// however large customerInfo or shippingInfo are (issue: no item near DynamoDB's 400 KB limit).

const suite = useRelaySuite();

describe("audit entries store what changed", () => {
  it("keeps only the changed keys of customerInfo and shippingInfo, before and after", async () => {
    const listing = await suite.kit.newListing();
    const relay = await suite.kit.create(listing.listingId, {
      customerInfo: { name: "Kim Minji", phone: "010-1234-5678", note: "n".repeat(900) },
    });
    const patched = await suite.call("PATCH", `/internal/relays/${relay.relayId}`, {
      customerInfo: { phone: "010-9999-0000" },
      shippingInfo: { address: "2 Sejong-daero, Seoul" },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.customerInfo).toMatchObject({ name: "Kim Minji", phone: "010-9999-0000" });
    const entry = (await suite.kit.audit(relay.relayId as string)).find((a) => a.kind === "DATA_CHANGE")!;
    expect(entry.before).toEqual({
      customerInfo: { phone: "010-1234-5678" },
      shippingInfo: { address: "1 Sejong-daero, Seoul" },
    });
    expect(entry.after).toEqual({
      customerInfo: { phone: "010-9999-0000" },
      shippingInfo: { address: "2 Sejong-daero, Seoul" },
    });
  });
});
