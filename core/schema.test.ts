import { describe, expect, it } from "vitest";
import * as z from "zod";
import { ValidationError } from "./errors.js";
import {
  CreateRelayInput,
  CustomerInfo,
  Metadata,
  PatchRelayInput,
  RelayEventInput,
  ShippingInfo,
} from "./relay/model.js";
import { FREE_FORM_MAX_BYTES, FreeFormObject, MAX_FREE_FORM_BYTES, ShippingAddressObject } from "./schema.js";
import { validate } from "./validate.js";

// Issue 9: an empty key anywhere in a free-form object reached DynamoDB ("Empty attribute name") and answered 500;
// issue 8: no free-form object may grow an item towards DynamoDB's 400 KB limit.

/** The paths a validation failure names. */
function pathsOf(schema: z.ZodType, input: unknown): string[] {
  try {
    validate(schema, input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((i) => i.path);
  }
  return [];
}

const free: [string, z.ZodType, Record<string, unknown>][] = [
  ["shippingAddress", ShippingAddressObject, { line1: "1 Sejong-daero" }],
  ["payload", FreeFormObject, { a: { b: [1, "x"] } }],
  ["customerInfo", CustomerInfo, { name: "Kim", address: { city: "Seoul" } }],
  ["shippingInfo", ShippingInfo, { address: "Seoul", carrier: null }],
  ["metadata", Metadata, { source: "smartstore", extra: { k: "v" } }],
];

describe("free-form objects", () => {
  it("exports one consistent set of size caps, each far below DynamoDB's 400 KB item limit", () => {
    expect(FREE_FORM_MAX_BYTES).toEqual({
      shippingAddress: 2048,
      customerInfo: 2048,
      shippingInfo: 4096,
      metadata: 4096,
      payload: 4096,
    });
    expect(MAX_FREE_FORM_BYTES).toBe(4096);
    // A relay and its audit entry (before and after) hold all three relay objects at most twice.
    expect(
      2 * (FREE_FORM_MAX_BYTES.customerInfo + FREE_FORM_MAX_BYTES.shippingInfo + FREE_FORM_MAX_BYTES.metadata),
    ).toBeLessThan((400 * 1024) / 10);
  });

  it.each(free)("%s: accepts an ordinary object", (_field, schema, valid) => {
    expect(pathsOf(schema, valid)).toEqual([]);
  });

  it.each(free)(
    "%s: refuses an empty key at the top and nested, naming the object that holds it",
    (field, schema, valid) => {
      const wrap = z.strictObject({ [field]: schema });
      expect(pathsOf(wrap, { [field]: { ...valid, "": "x" } })).toEqual([field]);
      if (field !== "shippingAddress")
        expect(pathsOf(wrap, { [field]: { ...valid, nested: { "": "x" } } })).toEqual([`${field}.nested`]);
    },
  );

  it.each(free)("%s: refuses more than its serialized size cap", (field, schema) => {
    const cap = FREE_FORM_MAX_BYTES[field as keyof typeof FREE_FORM_MAX_BYTES];
    const big = Object.fromEntries(
      Array.from({ length: Math.ceil(cap / 400) + 1 }, (_, i) => [`f${i}`, "x".repeat(400)]),
    );
    const wrap = z.strictObject({ [field]: schema });
    expect(pathsOf(wrap, { [field]: big })).toContain(field);
  });

  it("covers the relay inputs that carry free-form objects", () => {
    const base = { listingId: "l-1", quantity: 1, externalOrderId: "e-1" };
    expect(pathsOf(CreateRelayInput, { ...base, shippingInfo: { "": "x" } })).toEqual(["shippingInfo"]);
    expect(pathsOf(CreateRelayInput, { ...base, metadata: { "": "x" } })).toEqual(["metadata"]);
    expect(pathsOf(PatchRelayInput, { customerInfo: { a: { "": "x" } } })).toEqual(["customerInfo.a"]);
    expect(pathsOf(RelayEventInput, { type: "SHIPPED", shippingInfo: { "": "x" } })).toEqual(["shippingInfo"]);
  });

  it("states the non-empty key rule in the JSON Schema the OpenAPI document is built from", () => {
    expect(z.toJSONSchema(ShippingAddressObject)).toMatchObject({ propertyNames: { minLength: 1, maxLength: 64 } });
    expect(z.toJSONSchema(FreeFormObject)).toMatchObject({ propertyNames: { minLength: 1 } });
    expect(z.toJSONSchema(ShippingInfo, { unrepresentable: "any" })).toMatchObject({ propertyNames: { minLength: 1 } });
  });
});
