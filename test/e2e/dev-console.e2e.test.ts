import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// `npm run dev`'s console (local/main.ts as a user runs it): an access line per request, metrics summarized instead
// of raw EMF, readable log lines; and the optional data directory that keeps data across a restart.

interface Run {
  output: () => string;
  closed: Promise<number | null>;
  pid: number;
}

function startMain(env: Record<string, string>, args: string[] = []): Run {
  const child = spawn("npx", ["tsx", "local/main.ts", ...args], {
    cwd: process.cwd(),
    // The test runner turns metrics and logs off; the console under test needs them on, as `npm run dev` has them.
    env: { ...process.env, POWERTOOLS_METRICS_DISABLED: "false", POWERTOOLS_LOG_LEVEL: "INFO", PORT: "0", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { output: () => output, closed, pid: child.pid! };
}

async function until(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = run.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(run: Run): Promise<void> {
  try {
    process.kill(-run.pid, "SIGINT");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-run.pid, "SIGKILL");
    } catch {
      // gone
    }
  }, 15_000);
  await run.closed;
  clearTimeout(timer);
}

const urlOf = async (run: Run) => (await until(run, /HTTP API at (http:\/\/[\d.:]+)/, 90_000))[1]!;

describe("npm run dev console", () => {
  it("prints one access line per request and summarizes metrics instead of printing EMF", async () => {
    const run = startMain({ ORDERLINE_METRICS_INTERVAL_MS: "300" });
    try {
      const url = await urlOf(run);
      await until(run, /\[orderline\] ready in/, 30_000);
      const put = await fetch(`${url}/internal/offers/sku-console`, {
        method: "PUT",
        headers: { "content-type": "application/json", "x-request-id": "console-req-1" },
        body: JSON.stringify({ offerId: "off-1", unitPrice: 1000, currency: "KRW" }),
      });
      expect(put.status).toBe(200);
      await fetch(`${url}/internal/inventory/sku-console`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"onHand":5}',
      });
      const order = await fetch(`${url}/api/v1/orders`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": "console-k-1",
          "x-request-id": "console-req-2",
        },
        body: JSON.stringify({
          userId: "u-1",
          items: [{ skuId: "sku-console", qty: 1, offerId: "off-1", unitPrice: 1000 }],
          currency: "KRW",
          shippingAddressId: "a-1",
          paymentMethod: "CARD",
        }),
      });
      expect(order.status).toBe(201);
      expect((await fetch(`${url}/nowhere`)).status).toBe(404);

      await until(run, /\[http\] PUT \/internal\/offers\/sku-console 200 \d+ ms console-req-1\n/, 5_000);
      await until(run, /\[http\] POST \/api\/v1\/orders 201 \d+ ms console-req-2\n/, 5_000);
      await until(run, /\[http\] GET \/nowhere 404 \d+ ms [0-9A-Z]{26}\n/, 5_000);
      await until(run, /\[metrics\] .*order_create_total\{status=created\}=1/, 10_000);
      await until(run, /\[log\] INFO order created .*order_id=/, 5_000);
      const output = run.output();
      expect(output).not.toContain('"_aws"');
      expect(output).not.toContain('"function_arn"');
      expect(output.match(/\[http\] POST \/api\/v1\/orders /g)).toHaveLength(1);
    } finally {
      await stop(run);
    }
    expect(run.output()).toMatch(/\[metrics\] since start: .*order_create_total\{status=created\}=1/);
  }, 150_000);

  it("keeps data in ORDERLINE_DATA_DIR (or --data-dir) across a restart; memory stays the default", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orderline-data-"));
    try {
      const first = startMain({ ORDERLINE_DATA_DIR: dir });
      try {
        const url = await urlOf(first);
        expect(first.output()).toContain(`data in ${dir}`);
        const put = await fetch(`${url}/internal/offers/sku-kept`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ offerId: "off-kept", unitPrice: 700, currency: "KRW" }),
        });
        expect(put.status).toBe(200);
      } finally {
        await stop(first);
      }
      const second = startMain({}, ["--data-dir", dir]);
      try {
        const url = await urlOf(second);
        expect(second.output()).toContain("table orderline-local exists: using it");
        const offer = await fetch(`${url}/internal/offers/sku-kept`);
        expect(offer.status).toBe(200);
        expect(await offer.json()).toMatchObject({ offerId: "off-kept", unitPrice: 700 });
      } finally {
        await stop(second);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
