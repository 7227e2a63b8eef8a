import { CliUsageError } from "./exit.js";

/** `--name value` and `--flag` options plus positional arguments. */
export function parseArgs(args: readonly string[], known: Record<string, "string" | "boolean">) {
  const options: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split("=", 2);
    const kind = known[key];
    if (!kind) throw new CliUsageError(`unknown option --${key}`);
    if (kind === "boolean") options[key] = inline === undefined ? true : inline !== "false";
    else {
      const value = inline ?? args[++i];
      if (value === undefined) throw new CliUsageError(`--${key} needs a value`);
      options[key] = value;
    }
  }
  return { options, positional };
}
