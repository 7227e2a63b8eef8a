import type { Span } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import type { Sql } from "../runtime/storage/database.js";
import type { JobRecord, JobType } from "./job-store.js";

/** What a job's code gets from the worker that runs it. */
export interface JobRunContext {
  readonly job: JobRecord;
  readonly sql: Sql;
  /** The same database for a connection of the job's own: a worker thread's, for a fit that must not block the worker's event loop. */
  readonly databaseUrl: string;
  /** Aborted when the job is cancelled or the worker hands it back at shutdown. */
  readonly signal: AbortSignal;
  /** The job's span, a child of the submitting call's trace; handlers add events or child spans to it. */
  readonly span: Span;
  /** Records progress (0 to 100) and keeps the worker's claim on the job alive. */
  progress(percent: number, message: string): Promise<void>;
  /** Redis, for jobs whose results the serving path reads from it. */
  readonly redis: Redis;
  /** MLMESH_REDIS_PREFIX: the first part of the Redis keys and channels the serving path reads (see registry/promotions.ts). */
  readonly redisPrefix: string;
  /** Announces on Redis (model promotions); best effort. */
  publish(channel: string, message: string): Promise<void>;
}

/**
 * One kind of job. Its effect must be idempotent: a job whose worker died
 * after the work but before recording the outcome runs again.
 */
export interface JobHandler {
  readonly jobType: JobType;
  /** The model (training) or task (inference), lower-case. */
  readonly kind: string;
  /** Checks parameters at submit time; returns what is wrong, or undefined. */
  checkParameters(parameters: Record<string, unknown>): { field: string; rule: string; message: string } | undefined;
  /** Runs the job and returns the result summary stored with it. */
  run(ctx: JobRunContext): Promise<Record<string, unknown>>;
}

export type JobHandlers = ReadonlyMap<string, JobHandler>;

export function handlerKey(jobType: JobType, kind: string): string {
  return `${jobType}/${kind}`;
}

export function handlerMap(handlers: readonly JobHandler[]): JobHandlers {
  return new Map(handlers.map((h) => [handlerKey(h.jobType, h.kind), h]));
}
