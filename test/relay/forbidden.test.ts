import { describe, expect, it } from "vitest";
import { containsCardNumber, findForbiddenData, luhn } from "../../core/relay/forbidden.js";

// Issue 9: the card filter read the decimals of ordinary numbers (coordinates) as card numbers.

describe("the card filter and decimals", () => {
  it("has a realistic false positive to avoid: the decimals of this coordinate pass the Luhn check", () => {
    expect(luhn("5665355123451")).toBe(true);
  });

  it.each([
    "37.5665355123451",
    "-37.5665355123451",
    "37.5665355123451,126.9779692",
    "lat 37.5665355123451 lng 126.9779692",
    "0.4111111111111111",
  ])("does not flag the decimals of %j", (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it("does not flag a coordinate sent as a JSON number or a string", () => {
    expect(
      findForbiddenData({
        lat: 37.5665355123451,
        lng: 126.9779692,
        geo: { lat: "37.5665355123451" },
        list: [37.5665355123451],
      }),
    ).toEqual([]);
  });

  it.each([
    ["an unbroken run", "4111111111111111"],
    ["groups with spaces", "4111 1111 1111 1111"],
    ["groups with dashes", "4111-1111-1111-1111"],
    ["groups with dots", "4111.1111.1111.1111"],
    ["Amex groups with dots", "3782.822463.10005"],
    ["a run ending a sentence", "my card is 4111111111111111."],
    ["a run after a price", "paid 12.50 with 4111111111111111"],
  ])("still finds a card number typed as %s", (_layout, text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it("still finds a card number sent as a JSON integer", () => {
    expect(findForbiddenData({ n: 4111111111111111 })).toEqual([{ path: "n", kind: "card_number" }]);
  });
});
