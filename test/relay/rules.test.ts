import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../core/errors.js";
import {
  containsCardNumber,
  findForbiddenData,
  isCredentialKey,
  luhn,
  redactCardNumbers,
} from "../../core/relay/forbidden.js";
import { CreateRelayInput, MAX_RELAY_TOTAL, PatchRelayInput, relayTotal } from "../../core/relay/model.js";
import { sign, verify } from "../../core/relay/signing.js";
import {
  frozenFrom,
  isMutable,
  next,
  RelayCommand,
  RelayStatus,
  statusesAllowing,
  terminalStatuses,
  transitions,
} from "../../core/relay/status.js";

// Pure rules of DS-4.1: no table, no network.

describe("relay state machine (data table)", () => {
  it("allows exactly pending->relayed->confirmed->shipped->delivered, pending|relayed|confirmed->cancelled, shipped|delivered->refunded", () => {
    const edges = RelayStatus.flatMap((from) =>
      Object.entries(transitions[from]).map(([command, to]) => `${from} -${command}-> ${to}`),
    );
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
    for (const status of terminalStatuses)
      for (const command of RelayCommand) expect(next(status, command)).toBeUndefined();
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

  it.each([
    ["4-4-4-4 with spaces", "4111 1111 1111 1111"],
    ["4-4-4-4 with dashes", "4111-1111-1111-1111"],
    ["4-4-4-4-1 (17 digits)", "4111 1111 1111 1111 3"],
    ["4-4-4-4-2 (18 digits)", "4111-1111-1111-1111-18"],
    ["4-4-4-4-3 (19 digits)", "4000 0000 0000 0000 006"],
    ["4-6-5 (Amex) with spaces", "3782 822463 10005"],
    ["4-6-5 (Amex) with dashes", "3782-822463-10005"],
    ["4-6-4 (Diners)", "3056 930902 5904"],
    ["4-4-4-1 (13 digits)", "4222 2222 2222 2"],
    ["an unbroken run inside a sentence", "please charge 4111111111111111 for the order"],
    ["an unbroken run of 13 digits", "ref 4222222222222."],
    ["a card after a date", "paid 2026-11-24 4111 1111 1111 1111 thanks"],
    ["a card after a phone number", "010-1234-5678 4111-1111-1111-1111"],
    ["a card next to Korean text", "카드4111-1111-1111-1111로 결제"],
  ])("finds a card printed as %s", (_layout, text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    ["a date then a phone number", "주문 2026-11-24 010-9876-5432"],
    ["a postcode then a phone number", "서울 강남구 06004 010-1234-5678"],
    ["a phone number then a date", "010-9876-5432 2026-11-24"],
    ["several phone numbers", "010-1234-5678 010-9876-5432 02-123-4567"],
    ["mixed separators", "4111 1111-1111 1111"],
    ["a separator that is not a space or dash", "4111/1111/1111/1111"],
    ["groups outside the card layouts (5-3-4-4)", "41111 111 1111 1111"],
    ["groups outside the card layouts (2-2-4-4-4)", "41 11 1111 1111 1111"],
    ["a Luhn-failing 4-4-4-4", "4111 1111 1111 1112"],
  ])("does not flag %s", (_what, text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it("finds real cards in keys and values at any depth, and only there", () => {
    expect(
      findForbiddenData({
        customerInfo: { name: "Kim", phone: "010-1234-5678", memo: "주문 2026-11-24 010-9876-5432" },
        shippingInfo: { address: "서울 강남구 06004 010-1234-5678", extra: { note: "3782-822463-10005" } },
        metadata: { lines: [["x", "4222 2222 2222 2"]], "3782 822463 10005": true },
      }),
    ).toEqual([
      { path: "shippingInfo.extra.note", kind: "card_number" },
      { path: "metadata.lines.0.1", kind: "card_number" },
      { path: "metadata.[redacted]", kind: "card_number" },
    ]);
  });

  it("flags credential keys at any depth, however they are spelled", () => {
    for (const key of [
      "password",
      "Password",
      "user_password",
      "passwd",
      "accessToken",
      "refresh-token",
      "clientSecret",
      "credentials",
      "cvv",
      "CVC",
      "pin",
      "apiKey",
      "card_number",
    ])
      expect(isCredentialKey(key)).toBe(true);
    for (const key of [
      "name",
      "phone",
      "address",
      "trackingNumber",
      "carrier",
      "source",
      "shipping",
      "company",
      "spinner",
    ])
      expect(isCredentialKey(key)).toBe(false);
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
    expect(redactCardNumbers("order 2026-11-24 card 4111 1111 1111 1111, call 010-1234-5678")).toBe(
      "order 2026-11-24 card [redacted], call 010-1234-5678",
    );
    expect(redactCardNumbers("4111111111111111 and 3782-822463-10005")).toBe("[redacted] and [redacted]");
  });
});

describe("relay total bound", () => {
  it("computes unitPrice x quantity up to 1e15 minor units and refuses more, naming quantity", () => {
    expect(MAX_RELAY_TOTAL).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(relayTotal(15_000, 2)).toBe(30_000);
    expect(relayTotal(1_000_000_000_000, 1000)).toBe(1e15);
    for (const [price, quantity] of [
      [1_000_000_000_000, 1001],
      [1_000_000_000_000, 9999],
    ] as const) {
      let error: unknown;
      try {
        relayTotal(price, quantity);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: "VALIDATION_ERROR",
        issues: [expect.objectContaining({ path: "quantity" })],
      });
    }
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
