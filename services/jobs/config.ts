import { ConfigError, readInt, readPrefix, type IntSetting } from "../runtime/config.js";

/** Queue settings shared by the API (producers) and `mlmesh worker` (consumers). */
export interface JobsConfig {
  /**
   * BullMQ key prefix and the start of the job events' channels (MLMESH_QUEUE_PREFIX, by default
   * MLMESH_REDIS_PREFIX): deployments sharing one Redis keep apart by the one prefix.
   */
  prefix: string;
  /** Attempts before a job is dead-lettered. */
  attempts: number;
  /** First retry delay; each retry doubles it. */
  backoffMs: number;
  /** How long a worker's claim on a job lasts unless renewed; a dead worker's jobs return after it. */
  lockMs: number;
  /** How often workers look for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** Jobs a worker process runs at once, per queue. */
  concurrency: number;
  /** How often a worker looks for jobs PostgreSQL has and Redis lost (see reconciler.ts). */
  reconcileIntervalMs: number;
}

/** The queues' numeric settings, read and checked as the mesh's own are (runtime/config.ts). */
export const JOB_SETTINGS = {
  attempts: { name: "MLMESH_JOB_ATTEMPTS", fallback: 3, min: 1 },
  backoffMs: { name: "MLMESH_JOB_BACKOFF_MS", fallback: 1000, min: 0 },
  lockMs: { name: "MLMESH_JOB_LOCK_MS", fallback: 10_000, min: 1000 },
  stalledIntervalMs: { name: "MLMESH_JOB_STALLED_INTERVAL_MS", fallback: 5000, min: 500 },
  concurrency: { name: "MLMESH_WORKER_CONCURRENCY", fallback: 2, min: 1 },
  reconcileIntervalMs: { name: "MLMESH_JOB_RECONCILE_INTERVAL_MS", fallback: 60_000, min: 100 },
} as const satisfies Record<string, IntSetting>;

/**
 * Reads and checks the queue settings; every bad value is named at once.
 * `redisPrefix` is the mesh's MLMESH_REDIS_PREFIX when the caller has read it
 * already (from other settings than `env`); the queues use it unless
 * MLMESH_QUEUE_PREFIX says otherwise.
 */
export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env, redisPrefix?: string): JobsConfig {
  const problems: string[] = [];
  const queuePrefixSet = Boolean(env.MLMESH_QUEUE_PREFIX?.trim());
  const config: JobsConfig = {
    prefix:
      queuePrefixSet || redisPrefix === undefined
        ? readPrefix(env, queuePrefixSet ? "MLMESH_QUEUE_PREFIX" : "MLMESH_REDIS_PREFIX", problems)
        : redisPrefix,
    attempts: readInt(env, JOB_SETTINGS.attempts, problems),
    backoffMs: readInt(env, JOB_SETTINGS.backoffMs, problems),
    lockMs: readInt(env, JOB_SETTINGS.lockMs, problems),
    stalledIntervalMs: readInt(env, JOB_SETTINGS.stalledIntervalMs, problems),
    concurrency: readInt(env, JOB_SETTINGS.concurrency, problems),
    reconcileIntervalMs: readInt(env, JOB_SETTINGS.reconcileIntervalMs, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
