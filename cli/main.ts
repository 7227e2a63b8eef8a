#!/usr/bin/env node
import { commands, usage } from "./commands.js";
import { CliUsageError, ExitCode } from "./exit.js";

const [name, ...args] = process.argv.slice(2);

async function main(): Promise<number> {
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  const command = commands[name];
  if (!command) throw new CliUsageError(`unknown command '${name}'`);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return ExitCode.OK;
  }
  return command.run(args);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliUsageError) {
      process.stderr.write(`mlmesh: ${err.message}\n\n${usage()}`);
      process.exitCode = ExitCode.USAGE;
    } else if (err instanceof Error && err.name === "ConfigError") {
      process.stderr.write(`mlmesh: ${err.message}\n`);
      process.exitCode = ExitCode.CONFIG;
    } else {
      process.stderr.write(`mlmesh: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = ExitCode.FAILURE;
    }
  },
);
