import { log } from "../runtime/log.js";
import type { JobRecord, JobStore } from "./job-store.js";
import type { JobQueues, QueueEntry } from "./queues.js";
import type { SchedulerReconciler } from "./scheduler-reconciler.js";

// Longer than a submit takes between recording a job and queueing it, and than a worker takes to
// record a start after BullMQ hands it the job.
const QUIET_MS = 30_000;
const PAGE = 1000;
/** BullMQ's reasons when it gives up on a job by itself: its workers kept dying (or losing the lock) while running it. */
const GAVE_UP = ["job stalled more than allowable limit", "job started more than allowable limit"];
const GAVE_UP_MESSAGE =
  "the job was given up: the workers running it stopped (killed, out of memory, or cut off from Redis) too many times";

/**
 * Makes the queue agree with PostgreSQL, which holds the record. For every
 * unfinished job that has not changed for a while:
 * - its queue entry is gone (Redis came back without its data: no AOF, a
 *   flush, a failover to a replica that had not caught up): it is queued
 *   again, or it would wait forever;
 * - BullMQ finished the entry but the record says the job has not ended (its
 *   attempts were spent while PostgreSQL was down, so nothing could be
 *   recorded): the entry gets fresh attempts, or the record would stay
 *   pending or running for good; unless BullMQ gave the job up because its
 *   workers kept dying, which the record then says (failed, dead-lettered).
 * Every worker runs this at start and then on an interval; it is safe to
 * race, because BullMQ keeps one entry per job id, only a finished entry can
 * be retried, and the job's record accepts one outcome.
 */
export class QueueReconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly queues: JobQueues,
    private readonly intervalMs: number,
    /** The schedules' schedulers, made to agree with PostgreSQL on the same beat. */
    private readonly schedulers?: SchedulerReconciler,
  ) {}

  start(): void {
    const tick = () => void this.runOnce().catch((err) => log.warn("job reconciler: pass failed", { error: String(err) }));
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; resolves with the number of jobs queued again or recorded as given up. */
  runOnce(): Promise<number> {
    return (this.running ??= this.pass().finally(() => (this.running = undefined)));
  }

  private async pass(): Promise<number> {
    let repaired = this.schedulers
      ? await this.schedulers.runOnce().catch((err) => {
          log.warn("job reconciler: schedules not reconciled", { error: String(err) });
          return 0;
        })
      : 0;
    let after: JobRecord | undefined;
    for (;;) {
      const page = await this.store.quiet(QUIET_MS, PAGE, after);
      const entries = await this.queues.entries(page);
      const lost = entries.filter((e) => e.state === "missing").map((e) => e.job);
      if (lost.length) {
        await this.queues.addMany(lost);
        repaired += lost.length;
        log.warn("job reconciler: queued again jobs whose queue entries Redis had lost", { jobs: lost.length });
      }
      for (const entry of entries) {
        if (entry.state !== "finished") continue;
        repaired += await this.settle(entry).then(
          () => 1,
          (err) => {
            log.warn("job reconciler: could not settle a finished queue entry", { jobId: entry.job.jobId, error: String(err) });
            return 0;
          },
        );
      }
      if (page.length < PAGE) return repaired;
      after = page[page.length - 1];
    }
  }

  private async settle(entry: Extract<QueueEntry, { state: "finished" }>): Promise<void> {
    const { job } = entry;
    if (entry.finishedAs === "failed" && GAVE_UP.some((reason) => entry.failedReason.startsWith(reason))) {
      const ended = await this.store.deadLetter(job.jobId, GAVE_UP_MESSAGE);
      if (ended) await this.queues.deadLetter(job, GAVE_UP_MESSAGE).catch(() => undefined);
      log.warn("job reconciler: recorded a job BullMQ had given up on as failed", { jobId: job.jobId, reason: entry.failedReason });
      return;
    }
    await this.queues.revive(entry);
    log.warn("job reconciler: queued again a job BullMQ had finished while its record had not", {
      jobId: job.jobId,
      status: job.status,
      finishedAs: entry.finishedAs,
    });
  }
}
