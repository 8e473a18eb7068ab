import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ulid } from "ulid";
import { sleep } from "../core/retry.js";
import type { LocalRuntime } from "../local/runtime.js";
import { percentile } from "./stats.js";

const DIST = ".sst/dist";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Which function each asset directory belongs to, from the synthesized templates (Code.S3Key = <hash>.zip). */
function functionNamesByAsset(): Map<string, string> {
  const names = new Map<string, string>();
  for (const file of readdirSync(DIST).filter((f) => f.endsWith(".template.json"))) {
    const template = JSON.parse(readFileSync(join(DIST, file), "utf8")) as {
      Resources?: Record<string, { Type: string; Properties?: { Code?: { S3Key?: string }; Handler?: string } }>;
    };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      const key = resource.Properties?.Code?.S3Key;
      if (resource.Type === "AWS::Lambda::Function" && typeof key === "string")
        names.set(key.replace(/\.zip$/, ""), `${logicalId} (${resource.Properties?.Handler ?? "?"})`);
    }
  }
  return names;
}

/**
 * 5. Cold start: size of every bundled function in the `sst build` output, and the time a fresh Node process takes
 * to import it (module load only, as the Lambda init phase does). Run `npm run synth` first.
 */
export async function coldStart() {
  if (!existsSync(DIST)) return { skipped: "no .sst/dist: run `npm run synth` first" };
  const names = functionNamesByAsset();
  const rows = [];
  for (const dir of readdirSync(DIST).filter((d) => d.startsWith("asset."))) {
    const path = join(DIST, dir);
    const hash = dir.slice("asset.".length);
    // Skip leftovers of earlier builds, non-function assets and SST's own custom-resource handler.
    if (!names.get(hash)?.includes("(functions/") || !statSync(path).isDirectory()) continue;
    const files = filesUnder(path);
    const entry = files.find((f) => /\.(mjs|js)$/.test(f) && !f.endsWith(".map"));
    if (!entry) continue;
    const bytes = files.filter((f) => !f.endsWith(".map")).reduce((sum, f) => sum + statSync(f).size, 0);
    const started = performance.now();
    const child = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `await import(${JSON.stringify(join(process.cwd(), entry))})`],
      {
        // Without the local runtime's AWS_LAMBDA_MAX_CONCURRENCY (set in this process once a handler ran): with it,
        // Powertools expects the InvokeStore the Lambda runtime installs, and the bare import fails.
        env: {
          ...process.env,
          AWS_LAMBDA_MAX_CONCURRENCY: undefined,
          ORDERLINE_TABLE: "bench",
          AWS_REGION: "us-east-1",
        },
        encoding: "utf8",
      },
    );
    const importMs = performance.now() - started;
    rows.push({
      function: names.get(hash)!,
      kb: Math.round(bytes / 102.4) / 10,
      importMs: Math.round(importMs),
      ok: child.status === 0,
      ...(child.status === 0
        ? {}
        : {
            error: (
              (child.stderr ?? "").split("\n").find((line) => /^\w*Error\b.{0,200}$/.test(line.trim())) ??
              child.error?.message ??
              `exit ${child.status}`
            )
              .trim()
              .slice(0, 300),
          }),
      withinGoal: bytes <= 500 * 1024,
    });
  }
  return rows;
}

/**
 * 6. Event lag on the local runtime: from a committed checkout (response received) to its event on the local bus.
 * A random pause before each sample spreads the commits over the poller's cycle, so the figure is not an artefact
 * of landing at the same point of it every time.
 */
export async function eventLag(runtime: LocalRuntime, samples = 200) {
  const lags: number[] = [];
  const skuId = `lag-${ulid().toLowerCase()}`;
  // The cold-start section blocks this process in spawnSync for seconds, meanwhile the gateway's keep-alive timers
  // run out: the first request may go out on a pooled socket the server is closing (ECONNRESET). Every request here
  // is idempotent (PUTs, and a POST with its idempotency key), so it is sent again.
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await globalThis.fetch(url, init);
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  };
  await fetch(`${runtime.url}/internal/offers/${skuId}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ offerId: "off-lag", unitPrice: 100, currency: "KRW" }),
  });
  await fetch(`${runtime.url}/internal/inventory/${skuId}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ onHand: 1_000_000 }),
  });
  for (let i = 0; i < samples; i++) {
    await sleep(Math.random() * 150);
    const response = await fetch(`${runtime.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        userId: "lag",
        idempotencyKey: `lag-${ulid()}`,
        items: [{ skuId, qty: 1, offerId: "off-lag", unitPrice: 100 }],
        currency: "KRW",
        shippingAddressId: "a",
        paymentMethod: "CARD",
      }),
    });
    const committed = performance.now();
    const { orderId } = (await response.json()) as { orderId: string };
    await runtime.bus.waitFor(
      (e) => e["detail-type"] === "PAYMENT_REQUESTED" && (e.detail as { orderId?: string }).orderId === orderId,
      10_000,
    );
    lags.push(performance.now() - committed);
  }
  lags.sort((a, b) => a - b);
  return {
    samples,
    p50Ms: Math.round(percentile(lags, 50)),
    p90Ms: Math.round(percentile(lags, 90)),
    p99Ms: Math.round(percentile(lags, 99)),
    maxMs: Math.round(lags.at(-1) ?? 0),
  };
}
