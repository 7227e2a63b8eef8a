import { log } from "../services/runtime/log.js";
import { ExitCode } from "./exit.js";

/**
 * Runs until SIGTERM or SIGINT, then `shutdown`; resolves with the exit code:
 * 0 when it stopped cleanly, 1 when stopping failed.
 */
export function untilSignal(shutdown: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info("signal received", { signal });
      shutdown().then(
        () => resolve(ExitCode.OK),
        (err) => {
          log.error("shutdown failed", { error: String(err) });
          resolve(ExitCode.FAILURE);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
