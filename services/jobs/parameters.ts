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
