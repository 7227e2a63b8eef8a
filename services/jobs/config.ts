import { ConfigError } from "../runtime/config.js";

/** Queue settings shared by the API (producers) and `mlmesh worker` (consumers). */
export interface JobsConfig {
  /** BullMQ key prefix; deployments sharing one Redis keep apart by it. */
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

export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env): JobsConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be an integer of at least ${min}`);
      return fallback;
    }
    return n;
  };
  const prefix = env.MLMESH_QUEUE_PREFIX?.trim() || "mlmesh";
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) problems.push(`MLMESH_QUEUE_PREFIX=${JSON.stringify(prefix)}: letters, digits, - and _ only`);
  const config: JobsConfig = {
    prefix,
    attempts: int("MLMESH_JOB_ATTEMPTS", 3, 1),
    backoffMs: int("MLMESH_JOB_BACKOFF_MS", 1000, 0),
    lockMs: int("MLMESH_JOB_LOCK_MS", 10_000, 1000),
    stalledIntervalMs: int("MLMESH_JOB_STALLED_INTERVAL_MS", 5000, 500),
    concurrency: int("MLMESH_WORKER_CONCURRENCY", 2, 1),
    reconcileIntervalMs: int("MLMESH_JOB_RECONCILE_INTERVAL_MS", 60_000, 100),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
