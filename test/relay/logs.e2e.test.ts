import { describe, expect, it, vi } from "vitest";

// Raise the log level before any handler module (and so the shared Powertools logger) is loaded.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
});

import { logger } from "../../functions/powertools.js";
import { scanTable } from "../support/fixtures.js";
import { expectProblem, useRelaySuite } from "./support.js";

// Card data and credentials refused by the relay API never reach a log line, even at DEBUG.

const suite = useRelaySuite({ before: () => logger.setLogLevel("DEBUG"), after: () => logger.setLogLevel("SILENT") });

/** Everything written to stdout/stderr (where the Powertools logger writes) while `fn` runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const grab = (chunk: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(grab);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(grab);
  try {
    await fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join("");
}

describe("logs never carry card data or credentials", () => {
  it("refuses them, logs the refusal by path and kind only, and stores nothing", async () => {
    const listing = await suite.kit.newListing();
    const secrets = ["4111 1111 1111 1111", "5500-0000-0000-0004", "hunter2-do-not-log", "tok_live_do_not_log"];
    const externalOrderId = suite.kit.unique("logged");
    const output = await captureOutput(async () => {
      const responses = [
        await suite.call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(listing.listingId, { externalOrderId, customerInfo: { name: "Kim", note: secrets[0] } }),
        ),
        await suite.call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(listing.listingId, { externalOrderId, shippingInfo: { memo: secrets[1] } }),
        ),
        await suite.call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(listing.listingId, { externalOrderId, customerInfo: { password: secrets[2] } }),
        ),
        await suite.call(
          "POST",
          "/internal/relays",
          suite.kit.relayBody(listing.listingId, {
            externalOrderId,
            metadata: { source: "erp", apiToken: secrets[3] },
          }),
        ),
      ];
      for (const response of responses) expectProblem(response, 400, "FORBIDDEN_DATA");
      // A change of an existing relay with card data is refused the same way.
      const relay = await suite.kit.create(listing.listingId);
      await suite.kit.firstDispatch(relay.relayId); // its dispatch logs land inside the capture too
      expectProblem(
        await suite.call("PATCH", `/internal/relays/${relay.relayId}`, { customerInfo: { card: secrets[0] } }),
        400,
        "FORBIDDEN_DATA",
      );
    });

    // The capture worked: the refusals were logged (at INFO, visible at DEBUG)...
    expect(output).toContain("FORBIDDEN_DATA");
    expect(output).toContain("customerInfo.note");
    expect(output).toContain("relay dispatch");
    // ...but no secret, in any spelling.
    const compact = output.replace(/[ -]/g, "");
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      if (/^\d/.test(secret)) expect(compact).not.toContain(secret.replace(/[ -]/g, ""));
    }
    const stored = JSON.stringify(await scanTable()).replace(/[ -]/g, "");
    for (const secret of secrets) expect(stored).not.toContain(secret.replace(/[ -]/g, ""));
    expect((await suite.call("GET", `/internal/relays?listingId=${listing.listingId}`)).body.items).toHaveLength(1);
  });
});
