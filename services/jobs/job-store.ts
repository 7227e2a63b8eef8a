import { randomUUID } from "node:crypto";
import { DynamicBatcher } from "../runtime/batcher.js";
import type { Sql } from "../runtime/storage/database.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { isUuid } from "./uuid.js";

export type JobType = "training" | "inference";
export type JobState = "pending" | "running" | "completed" | "failed" | "cancelled";

export interface JobRecord {
  jobId: string;
  jobType: JobType;
  kind: string;
  status: JobState;
  parameters: Record<string, unknown>;
  forcePromote: boolean;
  priority: number;
  attempts: number;
  maxAttempts: number;
  progressPercent: number;
  progressMessage: string;
  result: Record<string, unknown> | null;
  error: string;
  idempotencyKey: string | null;
  run: number;
  cancelRequested: boolean;
  deadLettered: boolean;
  traceParent: string;
  /** A scheduled tick's queue entry (run 0 is queued under it); null for a submitted job. */
  queueEntry: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const TERMINAL: ReadonlySet<JobState> = new Set(["completed", "failed", "cancelled"]);

export interface NewJob {
  jobType: JobType;
  kind: string;
  parameters: Record<string, unknown>;
  forcePromote: boolean;
  priority: number;
  maxAttempts: number;
  idempotencyKey: string | undefined;
  traceParent: string;
}

export interface JobPage {
  jobs: JobRecord[];
  nextPageToken: string;
}

/**
 * Job history in PostgreSQL. Every state change is a guarded update (a job that
 * has ended never changes again), so a worker that runs a job twice after a
 * crash cannot overwrite the outcome the first run recorded.
 */
export class JobStore {
  // A worker starts and finishes jobs in all its slots at once; one statement (one commit, one WAL
  // flush) for all of them instead of one each. Each row keeps its own guard.
  private readonly starts = new DynamicBatcher<{ jobId: string; run: number; attempt: number }, JobRecord | undefined>({
    maxBatch: 128,
    maxWaitMs: 2,
    run: (items) => this.startMany(items),
  });
  private readonly completions = new DynamicBatcher<{ jobId: string; result: Record<string, unknown> }, boolean>({
    maxBatch: 128,
    maxWaitMs: 2,
    run: (items) => this.completeMany(items),
  });

  constructor(private readonly sql: Sql) {}

  /**
   * Inserts jobs in one statement (concurrent submits arrive here together),
   * each answered in order: the new job, or the one an earlier submit with the
   * same idempotency key created (also earlier in the same batch). The insert
   * commits synchronously whatever the server's default: when this resolves
   * the new records are on disk, so JobSubmitter may queue them, and a worker
   * only ever takes a job whose record is on disk. A record found by its key
   * is on disk too: an insert's rows become visible only after its commit
   * was flushed.
   */
  async createMany(jobs: readonly NewJob[]): Promise<{ job: JobRecord; created: boolean }[]> {
    const sql = this.sql;
    const ids = jobs.map(() => randomUUID());
    // One array per column (nine parameters whatever the group's size, rather than nine per job), and back only
    // what PostgreSQL chose: the rest of a new record is what was sent and the table's defaults (newRecord).
    // The commit waits for the WAL flush (groups in flight share one: PostgreSQL's group commit); one round trip,
    // where an asynchronous commit followed by a flush barrier took two.
    const inserted = await sql<{ job_id: string; created_at: Date; updated_at: Date }[]>`
      insert into jobs (job_id, job_type, kind, parameters, force_promote, priority, max_attempts, idempotency_key, trace_parent)
      select v.job_id, v.job_type, v.kind, v.parameters::jsonb, v.force_promote::boolean, v.priority, v.max_attempts, v.idempotency_key, v.trace_parent
      from unnest(
        ${ids}::uuid[], ${jobs.map((j) => j.jobType)}::text[], ${jobs.map((j) => j.kind)}::text[],
        ${jobs.map((j) => JSON.stringify(j.parameters))}::text[], ${jobs.map((j) => String(j.forcePromote))}::text[],
        ${jobs.map((j) => j.priority)}::int[], ${jobs.map((j) => j.maxAttempts)}::int[],
        ${jobs.map((j) => j.idempotencyKey ?? null)}::text[], ${jobs.map((j) => j.traceParent)}::text[]
      ) as v(job_id, job_type, kind, parameters, force_promote, priority, max_attempts, idempotency_key, trace_parent)
      on conflict (job_type, idempotency_key) where idempotency_key is not null do nothing
      returning job_id, created_at, updated_at, set_config('synchronous_commit', 'on', true) as sync_commit`;
    const byId = new Map(inserted.map((r) => [r.job_id, r]));
    const conflicts = jobs.filter((_, i) => !byId.has(ids[i]));
    const existing = new Map<string, JobRecord>();
    if (conflicts.length) {
      const found = await sql<Row[]>`
        select * from jobs where (job_type, idempotency_key) in ${sql(conflicts.map((j) => sql([j.jobType, j.idempotencyKey ?? ""])))}`;
      for (const r of found) existing.set(`${r.job_type}/${r.idempotency_key}`, fromRow(r));
    }
    return jobs.map((job, i) => {
      const created = byId.get(ids[i]);
      if (created) return { job: newRecord(ids[i], job, created.created_at, created.updated_at), created: true };
      const first = existing.get(`${job.jobType}/${job.idempotencyKey}`);
      if (!first) throw new Error(`job with idempotency key ${job.idempotencyKey} neither inserted nor found`);
      return { job: first, created: false };
    });
  }

  /**
   * The record of a scheduled tick, created by the worker that takes it:
   * keyed by the tick's queue entry, so a tick taken again (its worker died,
   * or an attempt failed) finds the record the first take made.
   */
  async forTick(queueEntry: string, job: NewJob): Promise<JobRecord> {
    const sql = this.sql;
    const inserted = await sql<Row[]>`
      insert into jobs ${sql({
        job_id: randomUUID(),
        job_type: job.jobType,
        kind: job.kind,
        parameters: sql.json(job.parameters as never),
        force_promote: job.forcePromote,
        priority: job.priority,
        max_attempts: job.maxAttempts,
        trace_parent: job.traceParent,
        queue_entry: queueEntry,
      })}
      on conflict (queue_entry) where queue_entry is not null do nothing
      returning *`;
    const row = inserted[0] ?? (await sql<Row[]>`select * from jobs where queue_entry = ${queueEntry}`)[0];
    if (!row) throw new Error(`scheduled job ${queueEntry} neither inserted nor found`);
    return fromRow(row);
  }

  /** Removes jobs whose queue entries could not be created, so retried submits start clean. */
  async discard(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length) await this.sql`delete from jobs where job_id = any(${jobIds}::uuid[]) and status = 'pending' and attempts = 0`;
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    if (!isUuid(jobId)) return undefined;
    const rows = await this.sql<Row[]>`select * from jobs where job_id = ${jobId}`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Newest first, keyset-paginated on (created_at, job_id) so pages stay stable while jobs are added. */
  async list(
    filter: { status?: JobState; jobType?: JobType; deadLettered?: boolean },
    pageSize: number,
    pageToken: string,
  ): Promise<JobPage> {
    const after = decodePageToken(pageToken);
    const sql = this.sql;
    const rows = await sql<Row[]>`
      select * from jobs
      where true
        ${filter.status ? sql`and status = ${filter.status}` : sql``}
        ${filter.jobType ? sql`and job_type = ${filter.jobType}` : sql``}
        ${filter.deadLettered ? sql`and dead_lettered` : sql``}
        ${after ? sql`and (created_at, job_id) < (select created_at, job_id from jobs where job_id = ${after.jobId})` : sql``}
      order by created_at desc, job_id desc
      limit ${pageSize + 1}`;
    const jobs = rows.slice(0, pageSize).map(fromRow);
    const last = jobs[jobs.length - 1];
    const nextPageToken = rows.length > pageSize && last ? encodePageToken({ jobId: last.jobId }) : "";
    return { jobs, nextPageToken };
  }

  /**
   * Unfinished jobs untouched for `quietMs`, oldest first: the ones whose queue
   * entry may have been lost (a fresh submit is recorded before it is queued,
   * so recent ones are left alone).
   */
  async quiet(quietMs: number, limit: number, after?: JobRecord): Promise<JobRecord[]> {
    const sql = this.sql;
    const rows = await sql<Row[]>`
      select * from jobs
      where status in ('pending', 'running') and updated_at < clock_timestamp() - ${quietMs} * interval '1 millisecond'
        ${after ? sql`and (updated_at, job_id) > (${after.updatedAt}, ${after.jobId}::uuid)` : sql``}
      order by updated_at, job_id
      limit ${limit}`;
    return rows.map(fromRow);
  }

  /**
   * A worker took the job. Undefined when the job has ended (cancelled while queued, or done by an earlier run).
   * Committed without waiting for the disk: the job's record is on disk before it is queued (JobSubmitter), and
   * a start lost in a crash of PostgreSQL only loses the mark "running" (with the attempt count): the job then
   * reads as pending and its outcome, recorded synchronously by a guarded update, is still recorded once.
   */
  start(jobId: string, run: number, attempt: number): Promise<JobRecord | undefined> {
    return this.starts.submit({ jobId, run, attempt });
  }

  private async startMany(items: readonly { jobId: string; run: number; attempt: number }[]): Promise<(JobRecord | undefined)[]> {
    const rows = await this.sql<Row[]>`
      update jobs j set status = 'running', attempts = greatest(j.attempts, v.attempt), started_at = clock_timestamp(),
                        updated_at = clock_timestamp(), error = ''
      from unnest(${items.map((i) => i.jobId)}::uuid[], ${items.map((i) => i.run)}::int[], ${items.map((i) => i.attempt)}::int[]) as v(job_id, run, attempt)
      where j.job_id = v.job_id and j.run = v.run and j.status in ('pending', 'running')
      returning j.*, set_config('synchronous_commit', 'off', true) as async_commit`;
    const started = new Map(rows.map((r) => [`${r.job_id}/${r.run}`, fromRow(r)]));
    return items.map((i) => started.get(`${i.jobId}/${i.run}`));
  }

  /** Records progress; answers whether a cancel has been asked for, so a worker that missed the message still stops. */
  async progress(jobId: string, percent: number, message: string): Promise<{ cancelRequested: boolean } | undefined> {
    const rows = await this.sql<{ cancel_requested: boolean }[]>`
      update jobs set progress_percent = ${percent}, progress_message = ${message}, updated_at = clock_timestamp()
      where job_id = ${jobId} and status = 'running'
      returning cancel_requested`;
    return rows[0] ? { cancelRequested: rows[0].cancel_requested } : undefined;
  }

  /** Records success; false when the job had already ended (a duplicate run). */
  complete(jobId: string, result: Record<string, unknown>): Promise<boolean> {
    return this.completions.submit({ jobId, result });
  }

  private async completeMany(items: readonly { jobId: string; result: Record<string, unknown> }[]): Promise<boolean[]> {
    const rows = await this.sql<{ job_id: string }[]>`
      update jobs j set status = 'completed', finished_at = clock_timestamp(), updated_at = clock_timestamp(),
                        result = v.result::jsonb, error = '', progress_percent = 100, progress_message = 'completed'
      from unnest(${items.map((i) => i.jobId)}::uuid[], ${items.map((i) => JSON.stringify(i.result))}::text[]) as v(job_id, result)
      where j.job_id = v.job_id and j.status in ('pending', 'running')
      returning j.job_id`;
    const done = new Set(rows.map((r) => r.job_id));
    return items.map((i) => done.has(i.jobId));
  }

  async cancelled(jobId: string, message: string): Promise<JobRecord | undefined> {
    return this.end(jobId, "cancelled", { message });
  }

  /** The last attempt failed: the job is failed and dead-lettered. */
  async deadLetter(jobId: string, error: string): Promise<JobRecord | undefined> {
    return this.end(jobId, "failed", { error, deadLettered: true });
  }

  /** An attempt failed and another will follow after the backoff. */
  async attemptFailed(jobId: string, error: string): Promise<void> {
    await this.sql`
      update jobs set status = 'pending', error = ${error}, updated_at = clock_timestamp(),
                      progress_message = 'waiting to retry'
      where job_id = ${jobId} and status = 'running'`;
  }

  /** Handed back at shutdown: queued again without spending an attempt. */
  async handedBack(jobId: string, attempt: number): Promise<void> {
    await this.sql`
      update jobs set status = 'pending', attempts = greatest(${attempt - 1}, 0), updated_at = clock_timestamp(),
                      progress_message = 'handed back by a worker that was shutting down'
      where job_id = ${jobId} and status = 'running'`;
  }

  /** Marks a job to stop. Answers the job as it is, or undefined if it has already ended. */
  async requestCancel(jobId: string): Promise<JobRecord | undefined> {
    const rows = await this.sql<Row[]>`
      update jobs set cancel_requested = true, updated_at = clock_timestamp()
      where job_id = ${jobId} and status in ('pending', 'running')
      returning *`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Fresh attempts for a failed job; answers the job with its new run number. */
  async requeue(jobId: string): Promise<JobRecord | undefined> {
    const rows = await this.sql<Row[]>`
      update jobs set status = 'pending', attempts = 0, run = run + 1, dead_lettered = false, cancel_requested = false,
                      error = '', result = null, progress_percent = 0, progress_message = '',
                      started_at = null, finished_at = null, updated_at = clock_timestamp()
      where job_id = ${jobId} and status = 'failed'
      returning *`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Undoes a requeue whose queue entry could not be created. */
  async restore(job: JobRecord): Promise<void> {
    await this.sql`
      update jobs set status = ${job.status}, attempts = ${job.attempts}, run = ${job.run}, dead_lettered = ${job.deadLettered},
                      error = ${job.error}, result = ${job.result ? this.sql.json(job.result as never) : null},
                      started_at = ${job.startedAt}, finished_at = ${job.finishedAt}, updated_at = clock_timestamp()
      where job_id = ${job.jobId} and run = ${job.run + 1} and status = 'pending' and attempts = 0`;
  }

  private async end(
    jobId: string,
    status: "failed" | "cancelled",
    how: { error?: string; message?: string; deadLettered?: boolean },
  ): Promise<JobRecord | undefined> {
    const rows = await this.sql<Row[]>`
      update jobs set status = ${status}, finished_at = clock_timestamp(), updated_at = clock_timestamp(),
                      result = null,
                      error = ${how.error ?? ""},
                      dead_lettered = ${how.deadLettered ?? false},
                      progress_message = ${how.message ?? status}
      where job_id = ${jobId} and status in ('pending', 'running')
      returning *`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}

interface Row {
  job_id: string;
  job_type: JobType;
  kind: string;
  status: JobState;
  parameters: Record<string, unknown>;
  force_promote: boolean;
  priority: number;
  attempts: number;
  max_attempts: number;
  progress_percent: number;
  progress_message: string;
  result: Record<string, unknown> | null;
  error: string;
  idempotency_key: string | null;
  run: number;
  cancel_requested: boolean;
  dead_lettered: boolean;
  trace_parent: string;
  queue_entry: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** A record createMany inserted: what it sent, the times PostgreSQL stamped, and the table's defaults (0500_jobs.sql). */
function newRecord(jobId: string, job: NewJob, createdAt: Date, updatedAt: Date): JobRecord {
  return {
    jobId,
    jobType: job.jobType,
    kind: job.kind,
    status: "pending",
    parameters: job.parameters,
    forcePromote: job.forcePromote,
    priority: job.priority,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    progressPercent: 0,
    progressMessage: "",
    result: null,
    error: "",
    idempotencyKey: job.idempotencyKey ?? null,
    run: 0,
    cancelRequested: false,
    deadLettered: false,
    traceParent: job.traceParent,
    queueEntry: null,
    createdAt,
    updatedAt,
    startedAt: null,
    finishedAt: null,
  };
}

function fromRow(r: Row): JobRecord {
  return {
    jobId: r.job_id,
    jobType: r.job_type,
    kind: r.kind,
    status: r.status,
    parameters: r.parameters,
    forcePromote: r.force_promote,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    progressPercent: r.progress_percent,
    progressMessage: r.progress_message,
    result: r.result,
    error: r.error,
    idempotencyKey: r.idempotency_key,
    run: r.run,
    cancelRequested: r.cancel_requested,
    deadLettered: r.dead_lettered,
    traceParent: r.trace_parent,
    queueEntry: r.queue_entry ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
