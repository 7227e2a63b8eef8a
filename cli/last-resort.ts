import { log } from "../services/runtime/log.js";

/**
 * What the process does with an error nothing else caught. No client should
 * ever reach this: every socket, session, stream and call has its own handler
 * (the hostile-client suite in test/hostile/ checks that none of its attacks
 * writes this log line). It is here for our own bugs.
 *
 * - An unhandled rejection is logged and the process keeps serving. A rejected
 *   promise leaves no half-run synchronous code behind, and ending the process
 *   would turn one failed call into an outage of all four ports and the worker.
 * - An uncaught exception may have stopped code half way and left shared state
 *   inconsistent, so it is logged and the process stops as on SIGTERM (health
 *   NOT_SERVING, in-flight calls drain), then exits 1 for the orchestrator to
 *   restart it. A second one while stopping exits at once.
 */
export function installLastResort(stop: () => Promise<void>): void {
  let stopping = false;
  process.on("unhandledRejection", (reason) => {
    log.error("last-resort: unhandled rejection, still serving", { error: describe(reason) });
  });
  process.on("uncaughtException", (err) => {
    log.error("last-resort: uncaught exception, stopping", { error: describe(err) });
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  });
}

function describe(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : String(value);
}
