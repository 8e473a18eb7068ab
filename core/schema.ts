import * as z from "zod";

/** Ids are opaque but restricted to characters that cannot break the table's composite keys. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, "may contain only letters, digits and . _ : @ -");

/** Money in minor units of the currency; never a float. */
export const Money = z.int().min(0).max(1_000_000_000_000);

export const Currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as KRW");

export const Limit = z.coerce.number().int().min(1).max(100).default(20);

export const Cursor = z.string().min(1).max(2048).optional();

/** Who asked for a change and under which request id; recorded on every event and audit entry. */
export interface Actor {
  actor: string;
  requestId: string;
}

/**
 * A number this service stores exactly: 0, or of magnitude between 1e-130 (DynamoDB's smallest) and
 * Number.MAX_SAFE_INTEGER (beyond it a JavaScript number is no longer exact, and the SDK refuses to marshal it).
 */
export const StorableNumber = z
  .number()
  .refine(
    (n) => n === 0 || (Math.abs(n) >= 1e-130 && Math.abs(n) <= Number.MAX_SAFE_INTEGER),
    "is outside the range that can be stored exactly",
  )
  // The refinement above, as the document states it (a refinement is invisible to JSON Schema).
  .meta({
    override: {
      anyOf: [
        { const: 0 },
        { minimum: 1e-130, maximum: Number.MAX_SAFE_INTEGER },
        { minimum: -Number.MAX_SAFE_INTEGER, maximum: -1e-130 },
      ],
    },
  });

/** JSON Schema of {@link StorableNumber}, for hand-built schemas (the free-form values below). */
const storableNumberJsonSchema = {
  type: "number",
  anyOf: [
    { const: 0 },
    { minimum: 1e-130, maximum: Number.MAX_SAFE_INTEGER },
    { minimum: -Number.MAX_SAFE_INTEGER, maximum: -1e-130 },
  ],
};

/**
 * Pairs of body fields of which a request gives exactly one. {@link exactlyOneOfEach} enforces them and
 * {@link exactlyOneOfJsonSchema} states them in the OpenAPI document, so the two cannot drift apart.
 */
export type FieldChoices = readonly (readonly [string, string])[];

/** The zod rule of `choices`: an issue on the first field of every pair given neither or both. */
export function exactlyOneOfEach(choices: FieldChoices) {
  return (input: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const [a, b] of choices)
      if ((input[a] === undefined) === (input[b] === undefined))
        ctx.addIssue({ code: "custom", path: [a], message: `give exactly one of ${a} or ${b}` });
  };
}

/** `choices` in JSON Schema: one `oneOf` of two `required` per pair. */
export function exactlyOneOfJsonSchema(choices: FieldChoices) {
  return { allOf: choices.map(([a, b]) => ({ oneOf: [{ required: [a] }, { required: [b] }] })) };
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

function storableValues(value: unknown): boolean {
  if (typeof value === "number") return StorableNumber.safeParse(value).success;
  if (typeof value === "string") return value.length <= 2000;
  if (value === null || typeof value !== "object") return true;
  return (Array.isArray(value) ? value : Object.values(value)).every(storableValues);
}

/**
 * Serialized size (UTF-8 bytes of its JSON) each free-form object may take. Together they keep any order, relay or
 * audit entry (which holds a relay's objects before and after a change) far below DynamoDB's 400 KB item limit and
 * any published event below EventBridge's 256 KB entry limit.
 */
export const FREE_FORM_MAX_BYTES = {
  shippingAddress: 2 * 1024,
  customerInfo: 2 * 1024,
  shippingInfo: 4 * 1024,
  metadata: 4 * 1024,
  /** An order event's `payload`. */
  payload: 4 * 1024,
} as const;

/** The largest of {@link FREE_FORM_MAX_BYTES}: no free-form object is larger. */
export const MAX_FREE_FORM_BYTES = Math.max(...Object.values(FREE_FORM_MAX_BYTES));

/**
 * A key of a free-form object. DynamoDB refuses an empty attribute name at any depth ("Empty attribute name"): the
 * document states it here, and {@link freeForm} enforces it at every depth with an issue naming the field (a record's
 * own key check would name it `field.`, with the empty key appended).
 */
export const FreeFormKey = z.string().meta({ minLength: 1 });

/** How deep a free-form object may nest (the object itself is level 1). */
export const FREE_FORM_DEPTH = 8;

/** Name of the OpenAPI component for a value at `level` of a free-form object. */
const freeFormValueName = (level: number) => `FreeFormValueLevel${level}`;
const freeFormValueRef = (level: number) => ({ $ref: `#/components/schemas/${freeFormValueName(level)}` });
const freeFormScalars = () => [
  { type: "string", maxLength: 2000 },
  storableNumberJsonSchema,
  { type: "boolean" },
  { type: "null" },
];

/**
 * JSON Schema of a free-form object (an order event's `payload`): non-empty keys at every depth, strings of at most
 * 2000 characters, storable numbers, at most {@link FREE_FORM_DEPTH} levels. One component per level (see
 * {@link freeFormValueComponents}) rather than a recursive one, because the depth is part of the rule and fuzzers
 * do not follow recursive references. The serialized-size cap is not expressible in JSON Schema.
 */
export function freeFormJsonSchema(): Record<string, unknown> {
  return { type: "object", propertyNames: { minLength: 1, maxLength: 128 }, additionalProperties: freeFormValueRef(2) };
}

/** The OpenAPI components {@link freeFormJsonSchema} refers to: a value at each level below the object. */
export function freeFormValueComponents(): Record<string, Record<string, unknown>> {
  const components: Record<string, Record<string, unknown>> = {};
  for (let level = 2; level <= FREE_FORM_DEPTH; level++) {
    const deeper = level < FREE_FORM_DEPTH;
    components[freeFormValueName(level)] = {
      description: `a value at level ${level} of a free-form object`,
      anyOf: [
        ...freeFormScalars(),
        ...(deeper
          ? [
              { type: "object", propertyNames: { minLength: 1 }, additionalProperties: freeFormValueRef(level + 1) },
              { type: "array", items: freeFormValueRef(level + 1) },
            ]
          : [
              { type: "object", propertyNames: { minLength: 1 }, additionalProperties: { anyOf: freeFormScalars() } },
              { type: "array", items: { anyOf: freeFormScalars() } },
            ]),
      ],
    };
  }
  return components;
}

/** Path (below the object) of the first map at any depth that has an empty key; undefined when there is none. */
function emptyKeyAt(value: unknown, path: (string | number)[] = [], depth = 0): (string | number)[] | undefined {
  if (value === null || typeof value !== "object" || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = emptyKeyAt(value[i], [...path, i], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === "") return path;
    const found = emptyKeyAt(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * The rules every free-form object shares, added to its shape: no empty key at any depth, and at most `maxBytes`
 * serialized. Issues name the field (and the nested map holding an empty key), so the answer is a 400
 * VALIDATION_ERROR naming it, never a DynamoDB error.
 */
export function freeForm<S extends z.ZodType<Record<string, unknown>>>(schema: S, maxBytes: number): S {
  return schema.superRefine((value, ctx) => {
    const at = emptyKeyAt(value);
    if (at)
      ctx.addIssue({
        code: "custom",
        path: at,
        message: 'has an empty key (""); every key needs at least one character',
      });
    const size = Buffer.byteLength(JSON.stringify(value), "utf8");
    if (size > maxBytes)
      ctx.addIssue({ code: "custom", message: `is ${size} bytes serialized; at most ${maxBytes} bytes are allowed` });
  }) as unknown as S;
}

/**
 * A free-form JSON object a caller may attach (an order event's `payload`): non-empty keys, at most 8 levels deep,
 * every value storable, at most {@link FREE_FORM_MAX_BYTES}.payload serialized.
 */
export const FreeFormObject = freeForm(
  z
    .record(FreeFormKey.max(128), z.unknown())
    .refine((value) => depthOf(value) <= FREE_FORM_DEPTH, `is nested too deeply (at most ${FREE_FORM_DEPTH} levels)`)
    .refine(storableValues, "holds a number out of range or a string over 2000 characters"),
  FREE_FORM_MAX_BYTES.payload,
).meta({ override: ({ jsonSchema }) => void Object.assign(jsonSchema, freeFormJsonSchema()) });

/**
 * A checkout's `shippingAddress` snapshot: named strings (`{ "line1": "...", "city": "..." }`), non-empty keys, at
 * most {@link FREE_FORM_MAX_BYTES}.shippingAddress serialized.
 */
export const ShippingAddressObject = freeForm(
  z.record(FreeFormKey.max(64), z.string().max(512)),
  FREE_FORM_MAX_BYTES.shippingAddress,
);
