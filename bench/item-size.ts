/**
 * DynamoDB item size as the service bills it: for each attribute, the UTF-8 length of its name plus its value
 * (strings: UTF-8 bytes; numbers: about 1 byte per 2 significant digits + 1; booleans/null: 1; lists/maps: 3 bytes
 * + 1 per element + their contents). See "Item sizes and formats" in the DynamoDB developer guide.
 */
export function attributeValueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  if (typeof value === "number") {
    const digits = String(Math.abs(value)).replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length || 1;
    return Math.ceil(digits / 2) + 1;
  }
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + attributeValueSize(v), 0);
  if (typeof value === "object")
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + attributeValueSize(v),
        0,
      )
    );
  return 0;
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => (value === undefined ? sum : sum + Buffer.byteLength(name) + attributeValueSize(value)),
    0,
  );
}

/** Write units of one item in a transaction: 2 per started KB (standard writes: 1 per KB). */
export const transactionalWriteUnits = (bytes: number) => 2 * Math.max(1, Math.ceil(bytes / 1024));
/** Write units of a standard (non-transactional) write, e.g. a GSI entry: 1 per started KB. */
export const standardWriteUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
/** Read units of a strongly consistent read: 1 per started 4 KB. */
export const consistentReadUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
