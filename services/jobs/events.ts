import type { Redis } from "ioredis";
import { subscribe, type Subscription } from "../runtime/storage/subscriber.js";

/** How long a process gathers job updates into one message (JobEvents.updated). */
export const UPDATE_COALESCE_MS = 10;

/**
 * Job events on Redis pub/sub: "updated" after every state or progress change
 * (WatchJob streams wake on it) and "cancel" (the worker holding the job stops
 * it, whichever process that is). Pub/sub is a wake-up call, never the record:
 * readers re-read PostgreSQL, and poll when Redis is away. Updates go out as
 * one message (comma-separated ids) per UPDATE_COALESCE_MS at most: a worker
 * finishing many jobs would otherwise spend a PUBLISH, and a socket write, per job.
 */
export class JobEvents {
  private readonly subscription: Subscription;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly cancelHandlers = new Set<(jobId: string) => void>();
  private pendingUpdates = new Set<string>();
  readonly updatedChannel: string;
  readonly cancelChannel: string;

  constructor(
    redisUrl: string,
    prefix: string,
    private readonly publisher: Redis,
  ) {
    this.updatedChannel = `${prefix}:jobs:updated`;
    this.cancelChannel = `${prefix}:jobs:cancel`;
    this.subscription = subscribe(
      redisUrl,
      [this.updatedChannel, this.cancelChannel],
      (channel, message) => {
        if (channel === this.updatedChannel) for (const id of message.split(",")) for (const wake of this.waiters.get(id) ?? []) wake();
        if (channel === this.cancelChannel) for (const handler of this.cancelHandlers) handler(message);
      },
      "job watchers poll every few seconds and cancels reach workers at their next progress report",
    );
  }

  /**
   * Best effort: a lost message only delays a watcher until its next poll. Updates are gathered for
   * UPDATE_COALESCE_MS: a worker taking jobs steadily starts and ends a few in each tick, and a PUBLISH per
   * tick (each a socket write here and a message for every API process) cost more than the rest of a
   * no-op job's notifications; a watcher hears of a change that much later at most.
   */
  updated(jobId: string): void {
    if (this.pendingUpdates.size === 0) setTimeout(() => this.flushUpdates(), UPDATE_COALESCE_MS);
    this.pendingUpdates.add(jobId);
  }

  private flushUpdates(): void {
    const ids = [...this.pendingUpdates];
    this.pendingUpdates = new Set();
    this.publisher.publish(this.updatedChannel, ids.join(",")).catch(() => undefined);
  }

  async requestCancel(jobId: string): Promise<void> {
    await this.publisher.publish(this.cancelChannel, jobId);
  }

  onCancel(handler: (jobId: string) => void): void {
    this.cancelHandlers.add(handler);
  }

  /** Resolves on the next update of the job, after pollMs at the latest; rejects when the signal aborts. */
  nextUpdate(jobId: string, pollMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const set = this.waiters.get(jobId) ?? new Set();
      this.waiters.set(jobId, set);
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", aborted);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(jobId);
        outcome();
      };
      const wake = () => settle(resolve);
      const aborted = () => settle(() => reject(signal.reason));
      const timer = setTimeout(wake, pollMs);
      set.add(wake);
      signal.addEventListener("abort", aborted, { once: true });
    });
  }

  close(): void {
    this.subscription.close();
  }
}
