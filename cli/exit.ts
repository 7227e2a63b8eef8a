/** Exit codes scripts can rely on. */
export enum ExitCode {
  OK = 0,
  /** The command ran and failed: an RPC error, an unhealthy server, a failed check. */
  FAILURE = 1,
  /** Bad command line. */
  USAGE = 2,
  /** Bad configuration in the environment. */
  CONFIG = 3,
}

export class CliUsageError extends Error {}
