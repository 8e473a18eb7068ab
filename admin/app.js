import { ApiError, call, loadConfig, needsSignIn, SessionExpired, signIn } from "./api.js";

/**
 * The admin console: one view at a time, chosen by the URL hash (`#relays`, `#audit/<relayId>`, `#order/<orderId>`,
 * `#inventory/<skuId>`), so a view can be bookmarked and the back button works. Everything is built with DOM calls,
 * never innerHTML: the data shown comes from suppliers and customers.
 */

const VIEWS = ["relays", "audit", "order", "inventory"];
const PAGE = 50;
/** Pending relays pages read per "load" while looking for failed ones (most pending relays are only in flight). */
const PENDING_PAGES_PER_LOAD = 5;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** ISO 8601 UTC shown unambiguously (admins compare it with logs, which are UTC). */
function time(/** @type {string | null | undefined} */ iso) {
  if (!iso) return el("span", { class: "muted", text: "—" });
  const text = iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
  return el("time", { datetime: iso }, text);
}

const STATUS_TONE = {
  relayed: "ok",
  confirmed: "ok",
  shipped: "ok",
  delivered: "ok",
  PAID: "ok",
  READY_TO_SHIP: "ok",
  SHIPPED: "ok",
  DELIVERED: "ok",
  pending: "warn",
  PAYMENT_PENDING: "warn",
  CREATED: "warn",
  REFUND_PENDING: "warn",
  cancelled: "bad",
  refunded: "bad",
  CANCELED: "bad",
  REFUNDED: "bad",
  failed: "bad",
};

function badge(
  /** @type {string} */ text,
  /** @type {string | undefined} */ tone = STATUS_TONE[/** @type {keyof typeof STATUS_TONE} */ (text)],
) {
  return el("span", { class: `badge ${tone ?? ""}`.trim() }, text);
}

/** Money is in minor units; the currency says how many fraction digits it has. */
function money(/** @type {number} */ amount, /** @type {string} */ currency) {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 0;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`;
  }
}

function compact(/** @type {unknown} */ value, max = 240) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function facts(/** @type {HTMLElement} */ list, /** @type {[string, Node | string | number][]} */ rows) {
  list.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

// ---------------------------------------------------------------------------------------------------- notices

const notice = $("notice");
function say(/** @type {string} */ text, /** @type {"ok" | "bad" | ""} */ tone = "") {
  notice.className = `notice ${tone}`.trim();
  notice.textContent = text;
}

/** Reports a failed call; a lapsed session goes back to sign-in. */
function fail(/** @type {unknown} */ error, /** @type {string} */ what) {
  if (error instanceof SessionExpired) {
    say("Your session has ended: sign in again.", "bad");
    show("login");
    return;
  }
  const detail = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  say(`${what} failed: ${detail}`, "bad");
}

// ---------------------------------------------------------------------------------------------------- views

let current = "";

/** @param {string} view @param {{ focus?: boolean }} [options] */
function show(view, options = {}) {
  for (const section of document.querySelectorAll(".view")) {
    /** @type {HTMLElement} */ (section).hidden = section.id !== `view-${view}`;
  }
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (/** @type {HTMLElement} */ (link).dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const title = document.querySelector(`#view-${view} h1`);
  document.title = `${title?.textContent ?? "Admin"} · Orderline admin`;
  // Moving focus to the new view's heading tells screen reader users the view changed.
  if (options.focus) /** @type {HTMLElement | null} */ (title)?.focus();
  current = view;
}

async function route(/** @type {{ focus?: boolean }} */ options = {}) {
  if (needsSignIn()) return show("login", options);
  const [view = "relays", ...rest] = location.hash.slice(1).split("/");
  const arg = decodeURIComponent(rest.join("/"));
  // Another fragment (the skip link's #main) is not a view: stay where we are.
  if (!VIEWS.includes(view) && view !== "" && current) return;
  const name = VIEWS.includes(view) ? view : "relays";
  const changed = name !== current;
  show(name, { focus: Boolean(options.focus && changed) });
  if (name === "relays" && (changed || !relaysLoaded)) await loadRelays();
  if (name === "audit" && arg) await openAudit(arg);
  if (name === "order" && arg) await openOrder(arg);
  if (name === "inventory" && arg) await openInventory(arg);
}

// ---------------------------------------------------------------------------------------------------- relays

/** @type {Map<string, { relay: any, pastThreshold: boolean }>} */
const attention = new Map();
let relaysLoaded = false;
/** @type {{ attention: string | null | undefined, pending: string | null | undefined }} */
let cursors = { attention: undefined, pending: undefined };

async function loadRelays() {
  attention.clear();
  cursors = { attention: undefined, pending: undefined };
  $("relays-table").querySelector("tbody")?.replaceChildren();
  relaysLoaded = true;
  await loadMoreRelays();
}

async function loadMoreRelays() {
  const more = /** @type {HTMLButtonElement} */ ($("relays-more"));
  more.disabled = true;
  $("relays-table").setAttribute("aria-busy", "true");
  try {
    if (cursors.attention !== null) {
      const query = new URLSearchParams({
        needsAttention: "true",
        limit: String(PAGE),
        ...(cursors.attention ? { cursor: cursors.attention } : {}),
      });
      const page = await call("GET", `/internal/relays?${query}`);
      for (const relay of page.items) attention.set(relay.relayId, { relay, pastThreshold: true });
      cursors.attention = page.nextCursor;
    }
    // Failed pending relays (a recorded lastError) that are not past the threshold yet.
    for (let i = 0; i < PENDING_PAGES_PER_LOAD && cursors.pending !== null; i++) {
      const query = new URLSearchParams({
        status: "pending",
        limit: String(PAGE),
        ...(cursors.pending ? { cursor: cursors.pending } : {}),
      });
      const page = await call("GET", `/internal/relays?${query}`);
      for (const relay of page.items)
        if (relay.metadata?.lastError && !attention.has(relay.relayId))
          attention.set(relay.relayId, { relay, pastThreshold: false });
      cursors.pending = page.nextCursor;
    }
    renderRelays();
  } catch (error) {
    fail(error, "Loading relays");
  } finally {
    more.disabled = false;
    $("relays-table").removeAttribute("aria-busy");
  }
}

function renderRelays() {
  const body = /** @type {HTMLElement} */ ($("relays-table").querySelector("tbody"));
  body.replaceChildren(...[...attention.values()].map(relayRow));
  $("relays-empty").hidden = attention.size > 0;
  $("relays-more").hidden = cursors.attention === null && cursors.pending === null;
}

function relayRow(/** @type {{ relay: any, pastThreshold: boolean }} */ { relay, pastThreshold }) {
  const lastError = relay.metadata?.lastError;
  const id = relay.relayId;
  const retry =
    relay.status === "pending"
      ? el(
          "button",
          { type: "button", class: "retry", "data-relay-id": id, onclick: () => retryRelay(id) },
          "Retry",
          el("span", { class: "visually-hidden" }, ` relay ${id}`),
        )
      : null;
  return el(
    "tr",
    { "data-relay-id": id },
    el("td", {}, el("span", { class: "id" }, id), el("br"), el("span", { class: "muted" }, relay.orderNumber ?? "")),
    el("td", {}, el("span", { class: "id" }, relay.listingId)),
    el(
      "td",
      { class: "status" },
      badge(relay.status),
      pastThreshold && relay.status === "pending" ? el("br") : null,
      pastThreshold && relay.status === "pending" ? badge("past threshold", "bad") : null,
    ),
    el("td", { class: "num attempts" }, relay.dispatchAttempts ?? 0),
    el("td", { class: "error" }, lastError?.message ?? el("span", { class: "muted" }, "—")),
    el("td", {}, time(lastError?.at)),
    el(
      "td",
      { class: "actions" },
      retry,
      el(
        "a",
        { href: `#audit/${encodeURIComponent(id)}` },
        "Audit",
        el("span", { class: "visually-hidden" }, ` of relay ${id}`),
      ),
    ),
  );
}

/** Disables a row's Retry button while its retry runs; its first child is the visible label. */
function setRetrying(/** @type {HTMLButtonElement | null} */ button, /** @type {boolean} */ retrying) {
  if (!button) return;
  button.disabled = retrying;
  if (button.firstChild) button.firstChild.textContent = retrying ? "Retrying…" : "Retry";
}

async function retryRelay(/** @type {string} */ relayId) {
  const button = /** @type {HTMLButtonElement | null} */ (
    document.querySelector(`button.retry[data-relay-id="${CSS.escape(relayId)}"]`)
  );
  setRetrying(button, true);
  try {
    const answer = await call("POST", "/admin/relays/retry", { relayIds: [relayId], reason: "admin console retry" });
    const result = answer.results[0];
    const relay = await call("GET", `/internal/relays/${encodeURIComponent(relayId)}`);
    const entry = attention.get(relayId);
    attention.set(relayId, { relay, pastThreshold: entry?.pastThreshold ?? false });
    renderRelays();
    const attempt = result.attempt ? ` (attempt ${result.attempt})` : "";
    if (result.outcome === "relayed") say(`Relay ${relayId} was relayed to its supplier${attempt}.`, "ok");
    else if (result.outcome === "failed")
      say(`Relay ${relayId} failed again${attempt}: ${result.message ?? "see its audit"}.`, "bad");
    else if (result.outcome === "refused")
      say(
        `The supplier refused relay ${relayId}: ${result.message ?? "no reason given"}. It is now ${result.status}.`,
        "bad",
      );
    else
      say(
        `Relay ${relayId}: ${result.outcome}${result.skipped ? ` (${result.skipped})` : ""}${result.message ? `: ${result.message}` : ""}.`,
      );
    // The row's Retry button is gone once the relay left pending: keep keyboard focus in the row.
    const row = document.querySelector(`tr[data-relay-id="${CSS.escape(relayId)}"]`);
    /** @type {HTMLElement | null} */ (row?.querySelector("button.retry, a"))?.focus();
  } catch (error) {
    fail(error, `Retry of relay ${relayId}`);
    setRetrying(button, false);
  }
}

// ---------------------------------------------------------------------------------------------------- timelines

/**
 * A timeline read a page at a time, oldest first: `open(path)` empties it for a new subject, `more()` appends the
 * next page of `path` and shows the "Load more" button while the API has another page.
 * @param {{ list: string, more: string, what: string, item: (entry: any) => Node }} parts element ids, what
 *   a failure reports as having failed, and how an entry is shown
 */
function timeline({ list, more, what, item }) {
  let path = "";
  /** @type {string | null} */
  let cursor = null;
  const next = async () => {
    const query = new URLSearchParams({ limit: String(PAGE), ...(cursor ? { cursor } : {}) });
    try {
      const page = await call("GET", `${path}?${query}`);
      $(list).append(...page.items.map(item));
      cursor = page.nextCursor;
      $(more).hidden = !page.nextCursor;
    } catch (error) {
      fail(error, what);
    }
  };
  $(more).addEventListener("click", () => void next());
  return {
    open(/** @type {string} */ subjectPath) {
      $(list).replaceChildren();
      path = subjectPath;
      cursor = null;
    },
    more: next,
  };
}

// ---------------------------------------------------------------------------------------------------- audit

async function openAudit(/** @type {string} */ relayId) {
  /** @type {HTMLInputElement} */ ($("audit-relay-id")).value = relayId;
  try {
    const relay = await call("GET", `/internal/relays/${encodeURIComponent(relayId)}`);
    $("audit-relay-heading").textContent = `Relay ${relay.orderNumber ?? relayId}`;
    const lastError = relay.metadata?.lastError;
    facts($("audit-relay"), [
      ["Relay id", el("span", { class: "id" }, relay.relayId)],
      ["Status", badge(relay.status)],
      ["Listing", el("span", { class: "id" }, relay.listingId)],
      ["Attempts", relay.dispatchAttempts ?? 0],
      ["Last error", lastError ? `${lastError.message} (attempt ${lastError.attempt})` : "—"],
      ["Relayed at", time(relay.relayedAt)],
      [
        "Ecommerce order",
        relay.ecommerceOrderId
          ? el("a", { href: `#order/${encodeURIComponent(relay.ecommerceOrderId)}` }, relay.ecommerceOrderId)
          : "—",
      ],
    ]);
    auditLog.open(`/internal/relays/${encodeURIComponent(relayId)}/audit`);
    $("audit-result").hidden = false;
    await auditLog.more();
  } catch (error) {
    $("audit-result").hidden = true;
    fail(error, `Loading relay ${relayId}`);
  }
}

function auditEntry(/** @type {any} */ entry) {
  const outcome =
    entry.kind === "EXTERNAL_CALL" ? badge(entry.success ? "succeeded" : "failed", entry.success ? "ok" : "bad") : null;
  const change =
    entry.kind === "STATUS_CHANGE" || entry.kind === "CANCELLATION"
      ? `${entry.before?.status ?? "—"} → ${entry.after?.status ?? entry.status}`
      : entry.kind === "DATA_CHANGE"
        ? `changed: ${Object.keys(entry.after ?? {}).join(", ") || "—"}`
        : null;
  const details = [
    entry.attempt ? `attempt ${entry.attempt}` : null,
    entry.latencyMs !== null && entry.latencyMs !== undefined ? `${entry.latencyMs} ms` : null,
    entry.reason ? `reason: ${entry.reason}` : null,
    entry.response ? `response: ${compact(entry.response)}` : null,
  ].filter(Boolean);
  return el(
    "li",
    { class: "audit-entry", "data-kind": entry.kind },
    el(
      "div",
      {},
      el("span", { class: "what" }, entry.kind),
      " ",
      badge(entry.status),
      " ",
      outcome,
      " ",
      el("span", { class: "when" }, time(entry.createdAt), ` · by ${entry.actor}`),
    ),
    change ? el("p", { class: "detail" }, change) : null,
    details.length ? el("p", { class: "detail" }, details.join(" · ")) : null,
  );
}

const auditLog = timeline({ list: "audit-list", more: "audit-more", what: "Loading the audit log", item: auditEntry });

// ---------------------------------------------------------------------------------------------------- orders

async function openOrder(/** @type {string} */ orderId) {
  /** @type {HTMLInputElement} */ ($("order-id")).value = orderId;
  try {
    const order = await call("GET", `/api/v1/orders/${encodeURIComponent(orderId)}`);
    facts($("order-facts"), [
      ["Order id", el("span", { class: "id" }, order.orderId)],
      ["Status", badge(order.status)],
      ["User", order.userId],
      ["Total", money(order.totalAmount, order.currency)],
      ["Payment", order.paymentMethod ?? "—"],
      ["Created", time(order.createdAt)],
      ["Updated", time(order.updatedAt)],
      ["Version", order.version],
    ]);
    /** @type {HTMLElement} */ ($("order-items").querySelector("tbody")).replaceChildren(
      ...(order.items ?? []).map((/** @type {any} */ item) =>
        el(
          "tr",
          {},
          el("td", {}, el("a", { href: `#inventory/${encodeURIComponent(item.skuId)}` }, item.skuId)),
          el("td", {}, item.priceSnapshot?.title ?? "—"),
          el("td", { class: "num" }, item.qty),
          el("td", { class: "num" }, money(item.priceSnapshot?.unitPrice ?? 0, order.currency)),
          el("td", { class: "num" }, money(item.itemTotalAmount, order.currency)),
        ),
      ),
    );
    orderEvents.open(`/api/v1/orders/${encodeURIComponent(orderId)}/events`);
    $("order-result").hidden = false;
    await orderEvents.more();
  } catch (error) {
    $("order-result").hidden = true;
    fail(error, `Loading order ${orderId}`);
  }
}

function orderEventEntry(/** @type {any} */ event) {
  return el(
    "li",
    { class: "order-event", "data-type": event.type },
    el(
      "div",
      {},
      el("span", { class: "what" }, `${event.seq}. ${event.type}`),
      " ",
      el("span", { class: "when" }, time(event.createdAt), ` · by ${event.actor}`),
    ),
    el("p", { class: "detail" }, `${event.fromStatus ?? "—"} → ${event.toStatus ?? "—"}`),
    event.payload && Object.keys(event.payload).length
      ? el("p", { class: "detail" }, el("code", {}, compact(event.payload)))
      : null,
  );
}

const orderEvents = timeline({
  list: "order-events",
  more: "order-more",
  what: "Loading the order's events",
  item: orderEventEntry,
});

// ---------------------------------------------------------------------------------------------------- inventory

async function openInventory(/** @type {string} */ skuId) {
  /** @type {HTMLInputElement} */ ($("inventory-sku")).value = skuId;
  try {
    const stock = await call("GET", `/internal/inventory/${encodeURIComponent(skuId)}`);
    facts($("inventory-facts"), [
      ["On hand", stock.onHand],
      ["Reserved", stock.reserved],
      ["Available", stock.available],
      ["Shards", stock.shards],
    ]);
    $("inventory-result").hidden = false;
  } catch (error) {
    $("inventory-result").hidden = true;
    fail(error, `Loading stock of ${skuId}`);
  }
}

// ---------------------------------------------------------------------------------------------------- wiring

/** A lookup form sets the hash; the hash change loads the view (so the lookup is in the history). */
function lookup(
  /** @type {string} */ formId,
  /** @type {string} */ view,
  /** @type {(arg: string) => Promise<void>} */ open,
) {
  $(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (/** @type {HTMLFormElement} */ (event.target).elements[0]);
    const value = input.value.trim();
    if (!value) return;
    say("");
    const hash = `#${view}/${encodeURIComponent(value)}`;
    if (location.hash === hash) void open(value);
    else location.hash = hash;
  });
}

lookup("audit-form", "audit", openAudit);
lookup("order-form", "order", openOrder);
lookup("inventory-form", "inventory", openInventory);
$("relays-refresh").addEventListener("click", () => {
  say("");
  void loadRelays();
});
$("relays-more").addEventListener("click", () => void loadMoreRelays());

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const data = new FormData(form);
  const button = /** @type {HTMLButtonElement} */ (form.querySelector("button"));
  button.disabled = true;
  try {
    const newPassword = String(data.get("newPassword") ?? "");
    const result = await signIn({
      username: String(data.get("username")),
      password: String(data.get("password")),
      ...(newPassword ? { newPassword } : {}),
    });
    if ("challenge" in result) {
      $("login-new-password").hidden = false;
      /** @type {HTMLInputElement} */ ($("login-new")).required = true;
      $("login-new").focus();
      say("Choose a new password to finish your first sign-in.");
      return;
    }
    $("session").textContent = `Signed in as ${result.user}`;
    say("");
    await route({ focus: true });
  } catch (error) {
    say(`Sign-in failed: ${error instanceof Error ? error.message : String(error)}`, "bad");
  } finally {
    button.disabled = false;
  }
});

// The skip link moves focus without touching the hash, which names the view.
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  $("main").focus();
});

window.addEventListener("hashchange", () => void route({ focus: true }));

const config = await loadConfig();
$("session").textContent = config.auth === "none" ? "Local runtime" : "";
await route();
document.body.dataset.ready = "true";
