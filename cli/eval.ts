import { CliUsageError } from "./exit.js";

export const evalUsage = `mlmesh eval MODEL

Runs a model's offline evaluation against its baselines and exits non-zero
unless the model beats them:
  match     v1 (ONNX) against the predecessor's weighted sum: AUC and log-loss on held-out pairs
  notify    against a fixed hour and the population-only model: next open within an hour of the slot
  forecast  against Prophet (WASM) and seasonal naive on US daily births: MAPE, coverage, speed
            (--markdown FILE writes the table)`;

const evaluations: Record<string, string> = {
  match: "../services/match/eval/main.js",
  notify: "../services/notify/eval/main.js",
  forecast: "../services/forecast/eval/main.js",
};

export async function evaluate(args: string[]): Promise<number> {
  const [model] = args;
  const path = evaluations[model ?? ""];
  if (!path) throw new CliUsageError(`eval: unknown or unbuilt model '${model ?? ""}' (built: ${Object.keys(evaluations).join(", ")})`);
  // Each evaluation is a program of its own that sets the exit code; it reads its flags from argv.
  process.argv = [process.argv[0], path, ...args.slice(1)];
  await import(path);
  return (process.exitCode as number | undefined) ?? 0;
}
