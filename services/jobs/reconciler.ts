import { log } from "../runtime/log.js";
import type { JobRecord, JobStore } from "./job-store.js";
import type { JobQueues } from "./queues.js";

// Longer than a submit takes between recording a job and queueing it, and than a worker takes to
// record a start after BullMQ hands it the job.
const QUIET_MS = 30_000;
const PAGE = 1000;

/**
 * Queues again what PostgreSQL holds and Redis lost. The job history is the
 * record; if Redis comes back without its data (no AOF, a flush, a failover
 * to a replica that had not caught up), pending jobs would wait forever and
 * running ones would never be recovered as stalled. Every worker runs this
 * at start and then on an interval; re-adding is safe to race, because
 * BullMQ keeps one entry per job id and the job's record in PostgreSQL
 * accepts one outcome.
 */
export class QueueReconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly queues: JobQueues,
    private readonly intervalMs: number,
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

  /** One pass; resolves with the number of jobs queued again. */
  runOnce(): Promise<number> {
    return (this.running ??= this.pass().finally(() => (this.running = undefined)));
  }

  private async pass(): Promise<number> {
    let requeued = 0;
    let after: JobRecord | undefined;
    for (;;) {
      const page = await this.store.quiet(QUIET_MS, PAGE, after);
      const lost = await this.queues.missing(page);
      if (lost.length) {
        await this.queues.addMany(lost);
        requeued += lost.length;
        log.warn("job reconciler: queued again jobs whose queue entries Redis had lost", { jobs: lost.length });
      }
      if (page.length < PAGE) return requeued;
      after = page[page.length - 1];
    }
  }
}
