/** Values written as PostgreSQL COPY text format fields, for the lines Database.copyIn loads. */

/** A text value, with the characters COPY gives meaning to escaped. */
export function copyField(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/** A text[] value. */
export function copyArray(values: readonly string[]): string {
  return copyField(`{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`);
}

/** A bytea value, in hex. */
export function copyBytea(bytes: Uint8Array): string {
  return `\\\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}
