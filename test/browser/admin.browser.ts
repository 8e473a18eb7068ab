import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "../../local/runtime.js";
import { type FakeSupplier, startSupplier } from "../relay/supplier.js";
import { relayKit, relayTestEnv } from "../relay/support.js";
import { client, startTestRuntime } from "../support/runtime.js";

/**
 * The admin console in a real browser: Debian's Chromium (never a downloaded one) driven by Playwright against the
 * local runtime in this process and a real supplier server that fails, then recovers. Every view is checked with
 * axe on a laptop-sized viewport.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VIEWPORT = { width: 1366, height: 768 };
/** Screenshots for a person to look at (gitignored). */
const SHOTS = path.resolve(".build", "admin-screenshots");

relayTestEnv();

let runtime: LocalRuntime;
let supplier: FakeSupplier;
let browser: Browser;
let page: Page;
let kit: ReturnType<typeof relayKit>;
let axeSource: string;
const pageErrors: string[] = [];
/** Console errors a test causes on purpose (the browser logs every 4xx answer it loads). */
let expectedErrors: RegExp[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  runtime = await startTestRuntime();
  supplier = await startSupplier();
  kit = relayKit(client(runtime.url), supplier, { autoDispatch: () => true });
  axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await mkdir(SHOTS, { recursive: true });
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: VIEWPORT });
  page.on("pageerror", (error) => pageErrors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(`console: ${message.text()} (${message.location().url})`);
  });
});

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await supplier?.stop();
});

afterEach(() => {
  const unexpected = pageErrors.splice(0).filter((line) => !expectedErrors.some((pattern) => pattern.test(line)));
  expectedErrors = [];
  expect(unexpected).toEqual([]);
});

/** axe on the page as it is now: WCAG 2.1 A/AA and best practices. Evaluated over CDP, so the page's CSP stays on. */
async function expectAccessible(what: string) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: any[] }> } }
    ).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n: { target: unknown }) => n.target),
    }));
  });
  expect(violations, `axe violations on ${what}`).toEqual([]);
}

/** Nothing in the page is wider than the viewport: no horizontal scrolling on a laptop. */
async function expectFitsViewport() {
  const width = await page.evaluate<number>("document.documentElement.scrollWidth");
  expect(width).toBeLessThanOrEqual(VIEWPORT.width);
}

const row = (relayId: string) => page.locator(`#relays-table tbody tr[data-relay-id="${relayId}"]`);

describe("admin console", () => {
  let failing: { relayId: string; listingId: string };
  let stuck: { relayId: string; listingId: string };
  let orderId: string;

  beforeAll(async () => {
    // One relay whose first dispatch failed, one that failed past the attempt threshold (3 in relay suites).
    const first = await kit.relayAfterFirstDispatch("fail");
    failing = { relayId: first.relay.relayId, listingId: first.listing.listingId };
    expect(first.relay.metadata.lastError.message).toMatch(/503/);
    const second = await kit.relayAfterFirstDispatch("fail");
    stuck = { relayId: second.relay.relayId, listingId: second.listing.listingId };
    const call = client(runtime.url);
    for (let i = 0; i < 3; i++)
      await call("POST", "/admin/relays/retry", { relayIds: [stuck.relayId], reason: "test" });
    orderId = await kit.placeOrder(15000);
  });

  it("serves the page at /admin and /admin/, and leaves the API's /admin routes alone", async () => {
    const redirect = await fetch(`${runtime.url}/admin?x=1`, { redirect: "manual" });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/admin/?x=1");
    const index = await fetch(`${runtime.url}/admin/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await (await fetch(`${runtime.url}/admin/config.json`)).json()).toEqual({ auth: "none" });
    expect((await fetch(`${runtime.url}/admin/build.mjs`)).status).toBe(404);
    expect((await fetch(`${runtime.url}/admin/missing.js`)).status).toBe(404);
    // Not a file of the page: the API's own answer (405 with Allow for the retry route, 404 elsewhere).
    const get = await fetch(`${runtime.url}/admin/relays/retry`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("lists failed relays with their last error and attempts, and retries one into relayed", async () => {
    await page.goto(`${runtime.url}/admin`);
    await page.waitForSelector("body[data-ready]");
    expect(new URL(page.url()).pathname).toBe("/admin/");
    await expect.poll(() => row(failing.relayId).count()).toBe(1);

    const failed = row(failing.relayId);
    expect(await failed.locator("td.status").innerText()).toContain("pending");
    expect(await failed.locator("td.attempts").innerText()).toBe("1");
    expect(await failed.locator("td.error").innerText()).toBe("supplier answered 503");
    expect(await failed.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const stuckRow = row(stuck.relayId);
    expect(await stuckRow.locator("td.status").innerText()).toContain("past threshold");
    expect(await stuckRow.locator("td.attempts").innerText()).toBe("4");

    await expectAccessible("the relays view");
    await expectFitsViewport();
    await page.screenshot({ path: path.join(SHOTS, "relays-failed.png") });

    supplier.behave(failing.listingId, "accept");
    await failed.getByRole("button", { name: `Retry relay ${failing.relayId}` }).click();
    await expect.poll(() => failed.locator("td.status").innerText()).toContain("relayed");
    expect(await page.locator("#notice").innerText()).toContain(
      `Relay ${failing.relayId} was relayed to its supplier (attempt 2)`,
    );
    expect(await failed.getByRole("button").count()).toBe(0);
    expect((await kit.get(failing.relayId)).status).toBe("relayed");
    await expectAccessible("the relays view after a retry");
    await page.screenshot({ path: path.join(SHOTS, "relays-retried.png") });
  });

  it("shows a relay's audit timeline", async () => {
    await row(failing.relayId)
      .getByRole("link", { name: `Audit of relay ${failing.relayId}` })
      .click();
    await page.waitForSelector("#audit-result:not([hidden]) .audit-entry");
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("audit-title");
    const relayFacts = await page.locator("#audit-relay").innerText();
    expect(relayFacts).toContain("relayed");
    const entries = await page.locator("#audit-list li").allInnerTexts();
    const calls = entries.filter((text) => text.startsWith("EXTERNAL_CALL"));
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/failed/);
    expect(calls[1]).toMatch(/succeeded/);
    expect(calls[1]).toContain("admin-console");
    expect(entries.some((text) => text.startsWith("STATUS_CHANGE") && text.includes("pending → relayed"))).toBe(true);
    await expectAccessible("the audit view");
    await expectFitsViewport();
    await page.screenshot({ path: path.join(SHOTS, "audit.png"), fullPage: true });
  });

  it("shows an order's status and event timeline", async () => {
    await page.getByRole("link", { name: "Order", exact: true }).click();
    await page.getByLabel("Order id").fill(orderId);
    await page.getByRole("button", { name: "Show order" }).click();
    await page.waitForSelector("#order-result:not([hidden]) .order-event");
    expect(await page.locator("#order-facts").innerText()).toContain("PAYMENT_PENDING");
    const events = await page
      .locator("#order-events li")
      .evaluateAll((items) => items.map((item) => item.getAttribute("data-type")));
    expect(events).toEqual(["ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_REQUESTED"]);
    expect(page.url()).toContain(`#order/${orderId}`);
    await expectAccessible("the order view");
    await expectFitsViewport();
    await page.screenshot({ path: path.join(SHOTS, "order.png") });
  });

  it("shows inventory (onHand, reserved, available, shards) and how to find drift", async () => {
    // From the order's item: its SKU links to its stock.
    await page.locator("#order-items tbody a").first().click();
    await page.waitForSelector("#inventory-result:not([hidden])");
    const stock = await page.locator("#inventory-facts").innerText();
    expect(stock.replace(/\s+/g, " ")).toContain("On hand 5 Reserved 1 Available 4 Shards 1");
    expect(await page.locator("#view-inventory").innerText()).toContain("ReconcileReservations");
    await expectAccessible("the inventory view");
    await expectFitsViewport();
    await page.screenshot({ path: path.join(SHOTS, "inventory.png") });
  });

  it("reports a missing order in the page, and is usable by keyboard", async () => {
    expectedErrors = [/404 \(Not Found\) \(.*\/api\/v1\/orders\/no-such-order\)$/];
    // A fresh load (from another document, not a hash change), so focus starts at the top.
    await page.goto("about:blank");
    await page.goto(`${runtime.url}/admin/#order/no-such-order`);
    await expect.poll(() => page.locator("#notice").innerText()).toContain("404 NOT_FOUND");
    expect(await page.locator("#order-result").isHidden()).toBe(true);
    await expectAccessible("an error notice");
    // The first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string | undefined>("document.activeElement?.outerHTML")).toContain("Skip to content");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("order-id");
  });
});
