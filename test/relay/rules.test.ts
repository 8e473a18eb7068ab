import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CreateRelayInput, PatchRelayInput } from "../../core/relay/model.js";
import { containsCardNumber, findForbiddenData, isCredentialKey, luhn, redactCardNumbers } from "../../core/relay/forbidden.js";
import { sign, verify } from "../../core/relay/signing.js";
import { frozenFrom, isMutable, next, RelayCommand, RelayStatus, statusesAllowing, terminalStatuses, transitions } from "../../core/relay/status.js";

// Pure rules of DS-4.1: no table, no network.

describe("relay state machine (data table)", () => {
  it("allows exactly pending->relayed->confirmed->shipped->delivered, pending|relayed|confirmed->cancelled, shipped|delivered->refunded", () => {
    const edges = RelayStatus.flatMap((from) => Object.entries(transitions[from]).map(([command, to]) => `${from} -${command}-> ${to}`));
    expect(edges.sort()).toEqual(
      [
        "pending -SUPPLIER_ACCEPTED-> relayed",
        "pending -SUPPLIER_REFUSED-> cancelled",
        "pending -CANCELLED-> cancelled",
        "relayed -SUPPLIER_CONFIRMED-> confirmed",
        "relayed -CANCELLED-> cancelled",
        "confirmed -SHIPPED-> shipped",
        "confirmed -CANCELLED-> cancelled",
        "shipped -DELIVERED-> delivered",
        "shipped -REFUNDED-> refunded",
        "delivered -REFUNDED-> refunded",
      ].sort(),
    );
  });

  it("makes cancelled and refunded terminal", () => {
    expect(terminalStatuses).toEqual(["cancelled", "refunded"]);
    for (const status of terminalStatuses) for (const command of RelayCommand) expect(next(status, command)).toBeUndefined();
  });

  it("never rolls a status back: every transition moves forward or ends", () => {
    const line = ["pending", "relayed", "confirmed", "shipped", "delivered"];
    for (const from of RelayStatus)
      for (const to of Object.values(transitions[from])) {
        if (terminalStatuses.includes(to)) continue;
        expect(line.indexOf(to)).toBeGreaterThan(line.indexOf(from));
      }
  });
});

describe("immutability points (DS-4.1 §5.3)", () => {
  const cases: [string, RelayStatus, boolean][] = [
    ["quantity", "pending", true],
    ["quantity", "relayed", false],
    ["listingId", "pending", false],
    ["unitPrice", "pending", false],
    ["totalPrice", "pending", false],
    ["ecommerceOrderId", "relayed", true],
    ["ecommerceOrderId", "confirmed", false],
    ["shippingInfo.carrier", "confirmed", true],
    ["shippingInfo.carrier", "shipped", false],
    ["shippingInfo.trackingNumber", "shipped", false],
    ["shippingInfo", "shipped", true],
    ["customerInfo", "shipped", true],
    ["customerInfo", "delivered", false],
    ["shippingInfo", "delivered", false],
  ];
  it.each(cases)("%s in %s: mutable=%s", (field, status, mutable) => {
    expect(isMutable(field as keyof typeof frozenFrom, status)).toBe(mutable);
  });

  it("freezes every field in cancelled and refunded", () => {
    for (const field of Object.keys(frozenFrom) as (keyof typeof frozenFrom)[]) {
      expect(isMutable(field, "cancelled")).toBe(false);
      expect(isMutable(field, "refunded")).toBe(false);
    }
  });

  it("derives the status condition of a write from the fields it changes", () => {
    expect(statusesAllowing(["quantity"])).toEqual(["pending"]);
    expect(statusesAllowing(["ecommerceOrderId"])).toEqual(["pending", "relayed"]);
    expect(statusesAllowing(["shippingInfo.carrier", "customerInfo"])).toEqual(["pending", "relayed", "confirmed"]);
    expect(statusesAllowing(["customerInfo"])).toEqual(["pending", "relayed", "confirmed", "shipped"]);
  });
});

describe("forbidden data detector (DS-4.1 §6.3)", () => {
  it("implements Luhn", () => {
    expect(luhn("4111111111111111")).toBe(true);
    expect(luhn("4111111111111112")).toBe(false);
    expect(luhn("378282246310005")).toBe(true); // Amex, 15 digits
    expect(luhn("6011111111111117")).toBe(true);
  });

  it.each([
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "card: 4111 1111 1111 1111 exp 12/29",
    "paid on 2025-01-15 4111111111111111",
    "3782 822463 10005",
    "6011111111111117",
    "4000000000000000006", // 19 digits
  ])("finds a card number in %j", (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    "4111111111111112", // fails Luhn
    "010-1234-5678", // a phone number
    "411111111111", // 12 digits
    "41111111111111111111", // 20 digits in one run
    "4111  1111 1111 1111", // double space is not a card layout
    "ss-20261124-001",
  ])("does not flag %j", (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it("flags credential keys at any depth, however they are spelled", () => {
    for (const key of ["password", "Password", "user_password", "passwd", "accessToken", "refresh-token", "clientSecret", "credentials", "cvv", "CVC", "pin", "apiKey", "card_number"])
      expect(isCredentialKey(key)).toBe(true);
    for (const key of ["name", "phone", "address", "trackingNumber", "carrier", "source", "shipping", "company", "spinner"]) expect(isCredentialKey(key)).toBe(false);
  });

  it("reports paths and kinds, never values, including card numbers sent as JSON numbers and inside arrays", () => {
    const findings = findForbiddenData({
      customerInfo: { name: "Kim", note: "4111 1111 1111 1111" },
      shippingInfo: { address: { line1: "Seoul", password: "hunter2" } },
      metadata: { lines: [{ pan: 1 }, 4111111111111111] },
      "4111111111111111": "key is a card number",
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        { path: "customerInfo.note", kind: "card_number" },
        { path: "shippingInfo.address.password", kind: "credential_key" },
        { path: "metadata.lines.0.pan", kind: "credential_key" },
        { path: "metadata.lines.1", kind: "card_number" },
        { path: "[redacted]", kind: "card_number" },
      ]),
    );
    expect(JSON.stringify(findings)).not.toContain("4111");
    expect(JSON.stringify(findings)).not.toContain("hunter2");
  });

  it("redacts card numbers from text such as a supplier's answer", () => {
    expect(redactCardNumbers("declined card 4111-1111-1111-1111 today")).toBe("declined card [redacted] today");
    expect(redactCardNumbers("out of stock")).toBe("out of stock");
  });
});

describe("HMAC signature", () => {
  it("signs the exact body with HMAC-SHA256 and verifies it in constant time", () => {
    const body = JSON.stringify({ relayId: "r-1", quantity: 2 });
    const signature = sign(body, "s3cr3t");
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verify(body, "s3cr3t", signature)).toBe(true);
    expect(verify(`${body} `, "s3cr3t", signature)).toBe(false);
    expect(verify(body, "other", signature)).toBe(false);
    expect(verify(body, "s3cr3t", undefined)).toBe(false);
  });
});

describe("scope of the relay domain (DS-4.1 §1.2, §4)", () => {
  const dir = join(import.meta.dirname, "../../core/relay");
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));

  it("never imports payment, stock, pricing or order-writing code: it only references orders by key", () => {
    expect(sources.length).toBeGreaterThan(5);
    for (const { file, text } of sources) {
      const imports = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      for (const target of imports) {
        expect(target, `${file} imports ${target}`).not.toMatch(/order\/|catalog\/|payment|inventory|stock/i);
      }
    }
  });

  it("takes no price, payment or stock input from callers", () => {
    const fields = [...Object.keys(CreateRelayInput.shape), ...Object.keys(PatchRelayInput.shape)];
    for (const field of fields) expect(field).not.toMatch(/payment|card|stock|inventory|discount|coupon/i);
    expect(Object.keys(CreateRelayInput.shape)).not.toContain("unitPrice");
    expect(Object.keys(CreateRelayInput.shape)).not.toContain("totalPrice");
  });
});
