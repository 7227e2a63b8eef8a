import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import type { JobsConfig } from "./config.js";
import type { JobRecord, JobType } from "./job-store.js";
import type { ScheduleRecord } from "./schedule-store.js";

/**
 * What a queue entry carries; everything else about the job is in PostgreSQL.
 * A scheduled tick carries its schedule's name instead of a job id: the
 * worker that takes it creates the job's record (JobStore.forTick).
 */
export type QueuedJob = { jobId: string; run: number; traceParent: string } | { schedule: string };

/** A job's queue entry as the reconciler finds it (JobQueues.entries). */
export type QueueEntry =
  | { job: JobRecord; state: "missing" | "live" }
  | { job: JobRecord; state: "finished"; finishedAs: "completed" | "failed"; failedReason: string };

export const WORK_QUEUES: readonly JobType[] = ["training", "inference"];
export const DEAD_LETTER_QUEUE = "dead-letter";

/** The queue entry's id: a retried job (RetryJob) is a new entry, run + 1; a scheduled tick's first run is the tick's entry. */
function queueJobId(job: Pick<JobRecord, "jobId" | "run" | "queueEntry">): string {
  return job.run === 0 && job.queueEntry ? job.queueEntry : `${job.jobId}.${job.run}`;
}

/** Ours is "higher runs first, 0 to 100"; BullMQ's is "lower runs first, from 1". Every job gets one so none skips the line. */
function bullPriority(priority: number): number {
  return 101 - priority;
}

/**
 * The producer side of the queues: one BullMQ queue per job type and a
 * dead-letter queue (no worker) that holds what failed its last attempt.
 * Its connection fails fast, so a submit while Redis is down is refused at
 * once instead of waiting in an offline queue.
 */
export class JobQueues {
  readonly connection: Redis;
  readonly queues: ReadonlyMap<string, Queue>;

  constructor(
    redisUrl: string,
    private readonly config: JobsConfig,
  ) {
    this.connection = new Redis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (n) => Math.min(200 * n, 2000),
      connectionName: "mlmesh-jobs-producer",
      // Commands issued in the same tick (a batch of adds, a worker's notifications) go out in one write.
      enableAutoPipelining: true,
    });
    this.connection.on("error", () => undefined);
    const queues = new Map<string, Queue>();
    for (const name of [...WORK_QUEUES, DEAD_LETTER_QUEUE]) {
      const queue = new Queue(name, { connection: this.connection, prefix: config.prefix });
      queue.on("error", () => undefined);
      queues.set(name, queue);
    }
    this.queues = queues;
  }

  queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`no queue ${name}`);
    return q;
  }

  options(job: JobRecord): JobsOptions {
    return { jobId: queueJobId(job), ...this.retention(job.maxAttempts, job.priority) };
  }

  /** Attempts, backoff, priority and trimming: what a submitted job and a scheduled tick share. */
  private retention(attempts: number, priority: number): Omit<JobsOptions, "jobId"> {
    return {
      attempts,
      backoff: { type: "exponential", delay: this.config.backoffMs },
      priority: bullPriority(priority),
      // Bounded Redis memory: the history that matters is in PostgreSQL.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 86_400, count: 10_000 },
    };
  }

  /** Waits briefly for a connection that is (re)connecting; a Redis that stays down is reported, not waited on. */
  async ready(timeoutMs = 2000): Promise<void> {
    if (this.connection.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connection.off("ready", onReady);
        reject(new Error(`Redis is ${this.connection.status}`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.connection.once("ready", onReady);
    });
  }

  async add(job: JobRecord): Promise<void> {
    await this.addMany([job]);
  }

  /** One addBulk per queue: a Redis round trip for a whole batch of submits. */
  async addMany(jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.ready();
    const byQueue = new Map<string, JobRecord[]>();
    for (const job of jobs) byQueue.get(job.jobType)?.push(job) ?? byQueue.set(job.jobType, [job]);
    await Promise.all(
      [...byQueue].map(([name, list]) =>
        this.queue(name).addBulk(
          list.map((job) => ({
            name: job.kind,
            data: { jobId: job.jobId, run: job.run, traceParent: job.traceParent } satisfies QueuedJob,
            opts: this.options(job),
          })),
        ),
      ),
    );
  }

  /**
   * Where each job's queue entry is: "missing" (Redis does not have it),
   * "finished" (BullMQ completed or failed it; with the reason it failed), or
   * "live" (waiting, delayed or held by a worker).
   */
  async entries(jobs: readonly JobRecord[]): Promise<QueueEntry[]> {
    if (jobs.length === 0) return [];
    await this.ready();
    return Promise.all(
      jobs.map(async (job): Promise<QueueEntry> => {
        const entry = await this.queue(job.jobType).getJob(queueJobId(job));
        if (!entry) return { job, state: "missing" };
        const state = await entry.getState();
        if (state === "unknown") return { job, state: "missing" };
        if (state === "completed" || state === "failed")
          return { job, state: "finished", finishedAs: state, failedReason: entry.failedReason ?? "" };
        return { job, state: "live" };
      }),
    );
  }

  /** Gives a finished entry fresh attempts: BullMQ ended it, but the job's record says it has not ended. */
  async revive(entry: Extract<QueueEntry, { state: "finished" }>): Promise<void> {
    const found = await this.queue(entry.job.jobType).getJob(queueJobId(entry.job));
    await found?.retry(entry.finishedAs, { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  /** Removes a job that no worker holds; false when a worker has it (then only the worker can stop it). */
  async removeIfWaiting(job: JobRecord): Promise<boolean> {
    const removed = await this.queue(job.jobType).remove(queueJobId(job));
    return removed === 1;
  }

  async deadLetter(job: JobRecord, error: string): Promise<void> {
    await this.queue(DEAD_LETTER_QUEUE).add(
      job.kind,
      { jobId: job.jobId, run: job.run, error },
      { jobId: queueJobId(job), removeOnComplete: true },
    );
  }

  async leaveDeadLetter(job: JobRecord): Promise<void> {
    await this.queue(DEAD_LETTER_QUEUE).remove(queueJobId(job));
  }

  /**
   * Creates or replaces a schedule's BullMQ job scheduler, on its job type's
   * queue. Its ticks are ordinary entries (repeat:<name>:<millis>) that carry
   * only the schedule's name; BullMQ makes each tick once, whatever the number
   * of workers, and each entry is taken by one worker.
   */
  async upsertScheduler(schedule: ScheduleRecord, attempts: number): Promise<void> {
    await this.ready();
    const repeat =
      "cron" in schedule.timing
        ? { pattern: schedule.timing.cron, tz: schedule.timing.timeZone || "UTC" }
        : { every: schedule.timing.intervalSeconds * 1000 };
    await this.queue(schedule.jobType).upsertJobScheduler(schedule.name, repeat, {
      name: schedule.kind,
      data: { schedule: schedule.name } satisfies QueuedJob,
      opts: this.retention(attempts, schedule.priority),
    });
  }

  /** The schedulers on the work queues: name, queue and when each next ticks. */
  async schedulers(): Promise<{ name: string; queue: JobType; next: number | undefined }[]> {
    await this.ready();
    const found = await Promise.all(
      WORK_QUEUES.map(async (queue) =>
        (await this.queue(queue).getJobSchedulers(0, -1)).map((s) => ({ name: s.key, queue, next: s.next })),
      ),
    );
    return found.flat();
  }

  /** Removes a schedule's job scheduler (and its next, not yet started, tick); from every work queue. */
  async removeScheduler(name: string, queues: readonly JobType[] = WORK_QUEUES): Promise<void> {
    await this.ready();
    await Promise.all(queues.map((q) => this.queue(q).removeJobScheduler(name)));
  }

  /** Removes the dead-letter entries of jobs whose records the retention clean-up deleted. */
  async forgetDeadLetters(jobs: readonly Pick<JobRecord, "jobId" | "run" | "queueEntry">[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.ready();
    await Promise.all(jobs.map((job) => this.queue(DEAD_LETTER_QUEUE).remove(queueJobId(job))));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.connection.disconnect();
  }
}
