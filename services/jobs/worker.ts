import { context, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { clientSafeMessage } from "../runtime/errors.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import { traceContextOf } from "../runtime/tracing.js";
import type { JobsConfig } from "./config.js";
import type { JobEvents } from "./events.js";
import { handlerKey, type JobHandlers, type JobRunContext } from "./handler.js";
import type { JobMetrics } from "./job-metrics.js";
import type { JobStore } from "./job-store.js";
import type { ScheduleStore } from "./schedule-store.js";
import { isDatabaseOutage, postponeMs } from "./outage.js";
import { WORK_QUEUES, type JobQueues, type QueuedJob } from "./queues.js";

type StopReason = "cancel" | "shutdown";

interface Running {
  controller: AbortController;
  reason?: StopReason;
}

export interface JobWorkerOptions {
  redisUrl: string;
  /** MLMESH_REDIS_PREFIX, handed to jobs (their cache keys and the models channel). */
  redisPrefix: string;
  config: JobsConfig;
  sql: Sql;
  /** The database's URL, handed to jobs that fit on a thread of their own (see JobRunContext.databaseUrl). */
  databaseUrl: string;
  store: JobStore;
  /** The schedules, read when a scheduled tick is taken. */
  schedules: ScheduleStore;
  queues: JobQueues;
  events: JobEvents;
  handlers: JobHandlers;
  metrics: JobMetrics;
  tracer?: Tracer;
}

// Progress writes are throttled: a tight loop reporting every item must not turn into a write per item.
const PROGRESS_INTERVAL_MS = 250;
// A queue with waiting jobs that this worker, with free slots, has not touched for this long means its fetch loop is dead.
const FETCH_STALL_MS = 30_000;

/**
 * Runs jobs from the BullMQ queues. The job's record in PostgreSQL is the
 * truth: the worker moves it through running to an end with guarded updates,
 * so a job run twice (its first worker died) cannot record two outcomes.
 * A cancel reaches the job through Redis pub/sub (or, if that was missed, at
 * its next progress report) and stops it through an AbortSignal; a shutdown
 * hands running jobs back to the queue without spending an attempt, and so
 * does an outage of PostgreSQL (the job is put off until it is back).
 */
export class JobWorker {
  private readonly workers: Worker<QueuedJob>[] = [];
  private readonly connections: Redis[] = [];
  private readonly running = new Map<string, Running>();
  private readonly publisher: Redis;
  private lastStartAt = Date.now();
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: JobWorkerOptions) {
    this.publisher = o.queues.connection;
    o.events.onCancel((jobId) => this.stop(jobId, "cancel"));
  }

  start(): void {
    for (const name of WORK_QUEUES) {
      const connection = new Redis(this.o.redisUrl, { maxRetriesPerRequest: null, connectionName: `mlmesh-worker-${name}` });
      connection.on("error", () => undefined);
      this.connections.push(connection);
      // The queue's slots are shared among a few BullMQ workers: each takes jobs one Redis round trip at a
      // time, so one alone starts the tenth job of a burst ten round trips late; several take a burst side by side.
      for (const concurrency of fetchers(this.o.config.concurrency)) {
        const worker = new Worker<QueuedJob>(name, (job, token) => this.process(job, token), {
          connection,
          prefix: this.o.config.prefix,
          concurrency,
          lockDuration: this.o.config.lockMs,
          stalledInterval: this.o.config.stalledIntervalMs,
          // Killed workers are expected (deploys, OOM); a job they held is not at fault, so it may stall often.
          maxStalledCount: 10,
          autorun: true,
        });
        worker.on("error", (err) => log.warn("job worker: queue error", { queue: name, error: err.message }));
        worker.on("active", () => (this.lastStartAt = Date.now()));
        this.workers.push(worker);
      }
    }
  }

  /** Why this worker cannot take jobs; empty when it can. */
  async problems(): Promise<string[]> {
    const problems: string[] = [];
    // A worker handing jobs back at shutdown is still alive: failing its probe now would only kill it sooner.
    if (this.stopping) return [];
    for (const w of this.workers) {
      if (!w.isRunning()) problems.push(`queue ${w.name}: the fetch loop is not running`);
    }
    const queues = new Set(this.workers.map((w) => w.name));
    const free = this.running.size < this.o.config.concurrency * queues.size;
    if (free && Date.now() - this.lastStartAt > FETCH_STALL_MS) {
      for (const name of queues) {
        const waiting = await this.o.queues
          .queue(name)
          .getJobCountByTypes("wait", "prioritized")
          .catch(() => 0);
        if (waiting > 0)
          problems.push(
            `queue ${name}: ${waiting} job(s) waiting but none started for ${Math.round((Date.now() - this.lastStartAt) / 1000)} s`,
          );
      }
    }
    return problems;
  }

  /**
   * Stops taking jobs at once; running jobs get the grace period to finish,
   * then are aborted and handed back to the queue without spending an attempt.
   */
  shutdown(graceMs: number): Promise<void> {
    return (this.stopping ??= (async () => {
      log.info("job worker: stopping, no new jobs taken", { running: this.running.size, graceMs });
      const closed = Promise.all(this.workers.map((w) => w.close()));
      const outcome = await Promise.race([closed.then(() => "closed" as const), delay(graceMs).then(() => "grace over" as const)]);
      if (outcome === "grace over") {
        log.warn("job worker: grace period over, handing running jobs back", { running: this.running.size });
        for (const jobId of this.running.keys()) this.stop(jobId, "shutdown");
        const handedBack = await Promise.race([closed.then(() => true), delay(10_000).then(() => false)]);
        // A job that ignores its abort signal is left to the stalled-job check: its lock expires and another worker takes it.
        if (!handedBack) await Promise.all(this.workers.map((w) => w.close(true)));
      }
      for (const c of this.connections) c.disconnect();
      log.info("job worker: stopped");
    })());
  }

  private stop(jobId: string, reason: StopReason): void {
    const r = this.running.get(jobId);
    if (!r || r.reason) return;
    r.reason = reason;
    r.controller.abort(new Error(reason === "cancel" ? "the job was cancelled" : "the worker is shutting down"));
  }

  /**
   * One attempt. An attempt that meets a PostgreSQL outage (the start, the
   * job's own queries, or recording how it ended) is put off: moved to
   * BullMQ's delayed set without spending an attempt, and run again once the
   * delay is over. The job's effects are idempotent, so a run whose outcome
   * could not be recorded may simply run again.
   */
  private async process(job: Job<QueuedJob>, token: string | undefined): Promise<unknown> {
    try {
      return await this.attempt(job, token);
    } catch (err) {
      if (!token || !isDatabaseOutage(err)) throw err;
      // attemptsStarted counts this start; the starts beyond the attempts made were put off (or stalled).
      const ms = postponeMs(this.o.config.backoffMs, job.attemptsStarted - job.attemptsMade - 1);
      log.info("job put off: the job history (PostgreSQL) is unavailable", {
        jobId: "jobId" in job.data ? job.data.jobId : job.id,
        retryInMs: ms,
        error: String(err),
      });
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError();
    }
  }

  /**
   * A scheduled tick's job: its record, created now from the schedule
   * PostgreSQL holds (once per tick, however often the tick is taken).
   * Undefined when the schedule was deleted: its scheduler is removed too.
   */
  private async adopt(job: Job<QueuedJob>, name: string): Promise<{ jobId: string; run: number } | undefined> {
    const schedule = await this.o.schedules.get(name);
    if (!schedule) {
      log.info("job worker: a tick of a deleted schedule; its scheduler is removed", { schedule: name, entry: job.id });
      await this.o.queues
        .removeScheduler(name)
        .catch((err) => log.warn("job worker: could not remove a deleted schedule's scheduler", { schedule: name, error: String(err) }));
      return undefined;
    }
    const record = await this.o.store.forTick(job.id ?? `${name}:${job.timestamp}`, {
      jobType: schedule.jobType,
      kind: schedule.kind,
      parameters: schedule.parameters,
      forcePromote: schedule.forcePromote,
      priority: schedule.priority,
      maxAttempts: job.opts.attempts ?? this.o.config.attempts,
      idempotencyKey: undefined,
      traceParent: "",
    });
    // Run 0 only: a tick taken after RetryJob queued its job again under a new run finds it ended or moved on.
    return { jobId: record.jobId, run: 0 };
  }

  private async attempt(job: Job<QueuedJob>, token: string | undefined): Promise<unknown> {
    const queued = "schedule" in job.data ? await this.adopt(job, job.data.schedule) : job.data;
    if (!queued) return { skipped: "the schedule was deleted" };
    const { jobId, run } = queued;
    const attempt = job.attemptsMade + 1;
    const record = await this.o.store.start(jobId, run, attempt);
    // Ended already (cancelled while queued, or finished by a run whose worker died before telling BullMQ).
    if (!record) return { skipped: "the job had already ended" };
    const { store, events, metrics } = this.o;
    if (record.cancelRequested) {
      await store.cancelled(jobId, "cancelled before it started");
      events.updated(jobId);
      return { cancelled: true };
    }
    const handler = this.o.handlers.get(handlerKey(record.jobType, record.kind));
    const entry: Running = { controller: new AbortController() };
    this.running.set(jobId, entry);
    events.updated(jobId);

    const parent = traceContextOf(record.traceParent);
    const tracer = this.o.tracer ?? trace.getTracer("ml-mesh");
    const span = tracer.startSpan(
      `job ${record.jobType}/${record.kind}`,
      // A consumer of the message the submitting call produced: trace viewers draw the hand-over between processes.
      { kind: SpanKind.CONSUMER, attributes: { "mlmesh.job_id": jobId, "mlmesh.job.attempt": attempt } },
      parent,
    );
    // The job's code, and the lines logged about its outcome, see its span: they carry its trace_id and span_id.
    const active = trace.setSpan(parent, span);
    const labels = { job_type: record.jobType, kind: record.kind };
    const stopTimer = metrics.jobDuration.startTimer(labels);
    let lastProgressAt = 0;
    const ctx: JobRunContext = {
      job: record,
      sql: this.o.sql,
      databaseUrl: this.o.databaseUrl,
      signal: entry.controller.signal,
      span,
      redis: this.publisher,
      redisPrefix: this.o.redisPrefix,
      publish: async (channel, message) => {
        await this.publisher.publish(channel, message).catch((err) => log.warn("job: publish failed", { channel, error: String(err) }));
      },
      progress: async (percent, message) => {
        const now = Date.now();
        if (now - lastProgressAt < PROGRESS_INTERVAL_MS && percent < 100) return;
        lastProgressAt = now;
        try {
          const state = await store.progress(jobId, Math.max(0, Math.min(100, percent)), message);
          if (state?.cancelRequested) this.stop(jobId, "cancel");
          if (token) await job.extendLock(token, this.o.config.lockMs);
          await job.updateProgress(percent);
          events.updated(jobId);
        } catch (err) {
          // Progress is advisory; losing one report must not fail the job.
          log.warn("job: progress not recorded", { jobId, error: String(err) });
        }
      },
    };
    try {
      if (!handler) throw new UnrecoverableError(`no ${record.jobType} handler for '${record.kind}' in this worker`);
      const result = await context.with(active, () => handler.run(ctx));
      await store.complete(jobId, result);
      stopTimer({ outcome: "completed" });
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      // Not the job's failure: process() puts it off without spending an attempt.
      if (isDatabaseOutage(err) && entry.reason === undefined) {
        stopTimer({ outcome: "postponed" });
        span.setStatus({ code: SpanStatusCode.ERROR, message: "put off: the job history (PostgreSQL) is unavailable" });
        throw err;
      }
      if (entry.reason === "cancel") {
        await store.cancelled(jobId, "cancelled while running");
        stopTimer({ outcome: "cancelled" });
        return { cancelled: true };
      }
      if (entry.reason === "shutdown" && token) {
        await store.handedBack(jobId, attempt);
        stopTimer({ outcome: "handed_back" });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // Clients read the job's error (GetJob, ListJobs, WatchJob, the queue dashboard): they get a message
      // without SQL, paths or stacks; the full error goes to the log and the span.
      const full = err instanceof Error ? (err.stack ?? err.message) : String(err);
      const message = clientSafeMessage(err, `the job failed with an internal error (the worker's log has the details for job ${jobId})`);
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      const last = err instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      if (last) {
        // The record first: if PostgreSQL is down the attempt is put off, and no dead-letter entry may remain for it.
        await store.deadLetter(jobId, message);
        await this.o.queues
          .deadLetter(record, message)
          .catch((e) => log.warn("job: dead-letter queue unavailable", { jobId, error: String(e) }));
        stopTimer({ outcome: "dead_lettered" });
        context.with(active, () => log.warn("job failed its last attempt: dead-lettered", { jobId, attempt, error: full }));
        throw forQueue(new UnrecoverableError(message));
      }
      await store.attemptFailed(jobId, message);
      stopTimer({ outcome: "retried" });
      context.with(active, () => log.info("job attempt failed: it will be retried", { jobId, attempt, error: full }));
      throw BULLMQ_CONTROL.has((err as Error)?.name) ? err : forQueue(new Error(message));
    } finally {
      this.running.delete(jobId);
      span.end();
      events.updated(jobId);
    }
  }
}

// BullMQ workers per queue at most: each is one more blocking connection to Redis and one more stalled-job check.
const MAX_FETCHERS = 4;

/** How a queue's slots are split among its BullMQ workers: as evenly as may be, one slot each at least. */
export function fetchers(concurrency: number): number[] {
  const n = Math.max(1, Math.min(MAX_FETCHERS, concurrency));
  return Array.from({ length: n }, (_, i) => Math.floor(concurrency / n) + (i < concurrency % n ? 1 : 0));
}

/** Errors that steer BullMQ rather than report a failure; they pass through as thrown. */
const BULLMQ_CONTROL = new Set(["DelayedError", "WaitingError", "WaitingChildrenError", "RateLimitError"]);

/** What BullMQ records of a failure (its reason and "stack", shown on the queue dashboard): the client-safe message only. */
function forQueue<E extends Error>(err: E): E {
  err.stack = `${err.name}: ${err.message}`;
  return err;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
