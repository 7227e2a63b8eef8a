import { DynamicBatcher } from "../runtime/batcher.js";
import { MeshError } from "../runtime/errors.js";
import { log } from "../runtime/log.js";
import { Status } from "../runtime/status.js";
import type { JobRecord, JobStore, NewJob } from "./job-store.js";
import { isDatabaseOutage } from "./outage.js";
import type { JobQueues } from "./queues.js";

type Submitted = { job: JobRecord; created: boolean };
/** Each submit's own answer: one bad submit in a group fails alone. */
type Outcome = { ok: Submitted } | { error: MeshError };

const HISTORY_DOWN = "the job history (PostgreSQL) is unavailable; nothing was queued, retry later";

/**
 * Submits jobs in groups: concurrent SubmitTrainingJob/SubmitInferenceJob
 * calls share one PostgreSQL insert and one BullMQ addBulk, so a burst of
 * submits costs a few round trips instead of two per job. A job's record is
 * on disk before it is queued (its insert commits synchronously), and both
 * before its submit is answered. If the queue refuses it, a job without an idempotency key is
 * removed again (nothing may look queued that is not); one with a key
 * stays recorded, because another submit with the same key may already have
 * answered with it: every submit that finds it pending queues it (a no-op
 * when it is queued), so retries with the key end as that one job.
 */
export class JobSubmitter {
  private readonly batcher: DynamicBatcher<NewJob, Outcome>;

  constructor(
    private readonly store: JobStore,
    private readonly queues: JobQueues,
  ) {
    // Groups of at most 16: a group's record, queue entry and answers travel together, so 64 submits in flight
    // in one group leave the event loop idle while it waits on PostgreSQL and Redis. Several groups overlap one's
    // waits with another's work. At 64 in flight (bench/jobs.ts's load), four runs each: 11.4-11.8k submits/s
    // against 8.7-10.8k with groups of 256 and 10.9-11.2k with 32.
    this.batcher = new DynamicBatcher({ maxBatch: 16, maxWaitMs: 1, run: (jobs) => this.submitMany(jobs) });
  }

  async submit(job: NewJob): Promise<Submitted> {
    const outcome = await this.batcher.submit(job);
    if ("error" in outcome) throw outcome.error;
    return outcome.ok;
  }

  private async submitMany(jobs: NewJob[]): Promise<Outcome[]> {
    const outcomes = await this.record(jobs);
    const toQueue = new Map<string, JobRecord>();
    for (const o of outcomes) if ("ok" in o && (o.ok.created || o.ok.job.status === "pending")) toQueue.set(o.ok.job.jobId, o.ok.job);
    if (toQueue.size === 0) return outcomes;
    // The records are on disk (JobStore.createMany commits synchronously) before they are queued, so a worker
    // never takes a job whose record could still be lost. That is what lets a worker's start commit without
    // waiting for the disk (JobStore.start), which keeps a flush off the way from queued to running.
    try {
      await this.queues.addMany([...toQueue.values()]);
    } catch (err) {
      log.warn("job submit refused: queue unavailable", { error: String(err) });
      return this.refuse(outcomes, toQueue);
    }
    return outcomes;
  }

  /**
   * Answers a group the queue refused with UNAVAILABLE. Nothing may look queued that is not: keyless jobs are
   * removed again (an entry, if any, then finds no record and is skipped by the worker). A keyed job stays: a
   * retry with its key finds it and queues it (a no-op if it is queued).
   */
  private async refuse(outcomes: Outcome[], toQueue: ReadonlyMap<string, JobRecord>): Promise<Outcome[]> {
    const keyless = outcomes.flatMap((o) => ("ok" in o && o.ok.created && o.ok.job.idempotencyKey === null ? [o.ok.job.jobId] : []));
    await this.store.discard(keyless).catch(() => undefined);
    return outcomes.map((o) => {
      if (!("ok" in o) || !toQueue.has(o.ok.job.jobId)) return o;
      return {
        error: MeshError.unavailable(
          o.ok.job.idempotencyKey !== null
            ? "the job queue (Redis) is unavailable; retry later with the same idempotency_key"
            : "the job queue (Redis) is unavailable; nothing was queued, retry later",
        ),
      };
    });
  }

  /**
   * Records the group in one insert. If PostgreSQL refuses that insert for
   * what is in it rather than for being away, each job is recorded on its
   * own, so only the job it refuses fails.
   */
  private async record(jobs: NewJob[]): Promise<Outcome[]> {
    try {
      return (await this.store.createMany(jobs)).map((ok) => ({ ok }));
    } catch (err) {
      if (isDatabaseOutage(err)) {
        log.warn("job submit refused: job history unavailable", { error: String(err) });
        return jobs.map(() => ({ error: MeshError.unavailable(HISTORY_DOWN) }));
      }
      if (jobs.length > 1) return (await Promise.all(jobs.map((job) => this.record([job])))).flat();
      return [{ error: refusal(err) }];
    }
  }
}

/** A job PostgreSQL would not store on its own: its values when PostgreSQL says so (data exception, class 22), else unavailable. */
function refusal(err: unknown): MeshError {
  const e = err as { name?: unknown; code?: unknown };
  if (e?.name === "PostgresError" && typeof e.code === "string" && e.code.startsWith("22")) {
    const message = "the job history cannot store one of the job's values";
    return new MeshError(Status.INVALID_ARGUMENT, `parameters: ${message}`, [
      { field: "parameters", rule: "parameters.storable", message },
    ]);
  }
  log.warn("job submit refused: the job could not be recorded", { error: String(err) });
  return MeshError.unavailable(HISTORY_DOWN);
}
