type Violation = { field: string; rule: string; message: string } | undefined;

/** For jobs that take no parameters: an unknown one is a mistake worth reporting, not ignoring. */
export function noParameters(parameters: Record<string, unknown>): Violation {
  const [name] = Object.keys(parameters);
  return name === undefined
    ? undefined
    : { field: `parameters.${name}`, rule: "parameters.known", message: `unknown parameter '${name}': this job takes none` };
}

/** Checks parameters against a list of known names and per-name rules. */
export function checkKnown(parameters: Record<string, unknown>, rules: Record<string, (value: unknown) => string | undefined>): Violation {
  for (const [name, value] of Object.entries(parameters)) {
    const rule = rules[name];
    if (!rule)
      return {
        field: `parameters.${name}`,
        rule: "parameters.known",
        message: `unknown parameter '${name}' (known: ${Object.keys(rules).join(", ")})`,
      };
    const problem = rule(value);
    if (problem) return { field: `parameters.${name}`, rule: `parameters.${name}`, message: problem };
  }
  return undefined;
}

/**
 * PostgreSQL stores no NUL character, in text or in JSON: one would make it
 * refuse the whole insert, so a submit carrying one is refused up front,
 * naming where it is (the idempotency key or a parameter, name or value).
 */
export function checkNoNul(idempotencyKey: string, parameters: Record<string, unknown>): Violation {
  if (idempotencyKey.includes("\0"))
    return { field: "idempotency_key", rule: "idempotency_key.no_nul", message: "must not contain a NUL character (U+0000)" };
  for (const [name, value] of Object.entries(parameters)) {
    if (name.includes("\0") || hasNul(value))
      return {
        field: `parameters.${name.replaceAll("\0", "\\u0000")}`,
        rule: "parameters.no_nul",
        message: "must not contain a NUL character (U+0000)",
      };
  }
  return undefined;
}

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\0");
  // Struct values nest only as deep as the protobuf decoder allows; the bound keeps a hand-built object from recursing forever.
  if (depth > 200 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes("\0") || hasNul(v, depth + 1));
}

/** A parameter rule: an integer from `min` to `max`. */
export function integerIn(min: number, max: number): (value: unknown) => string | undefined {
  return (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer from ${min} to ${max}`;
}

/** A parameter rule: a finite number from `min` to `max` (`above`: greater than `min`). */
export function numberIn(min: number, max: number, above = false): (value: unknown) => string | undefined {
  return (v) =>
    typeof v === "number" && Number.isFinite(v) && (above ? v > min : v >= min) && v <= max
      ? undefined
      : `must be a number ${above ? "greater than" : "from"} ${min} ${above ? "and at most" : "to"} ${max}`;
}
