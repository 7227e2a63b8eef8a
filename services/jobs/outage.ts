import { unavailableStore } from "../runtime/errors.js";

// How long a job put off by an outage waits at most before it is tried again.
const MAX_POSTPONE_MS = 5000;
const MIN_POSTPONE_MS = 250;

/**
 * Whether an attempt ended because the job history (PostgreSQL) could not be
 * reached: a restart, a failover, a dropped connection. That is not the job's
 * fault, so it must not spend one of the job's attempts: with PostgreSQL down
 * every attempt would fail at once, BullMQ would fail the entry, and the
 * record could not even say so (it would stay pending or running for good).
 */
export function isDatabaseOutage(err: unknown): boolean {
  return unavailableStore(err) === "database";
}

/**
 * How long to put a job off after its `postponed`-th outage in a row: the
 * retry backoff, doubling, between a quarter second and five seconds, so a
 * long outage costs each waiting job one try every few seconds and a short
 * one delays it little.
 */
export function postponeMs(backoffMs: number, postponed: number): number {
  const ms = Math.max(backoffMs, MIN_POSTPONE_MS) * 2 ** Math.min(Math.max(postponed, 0), 10);
  return Math.min(ms, MAX_POSTPONE_MS);
}
