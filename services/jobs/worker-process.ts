import { listenerLimits } from "../runtime/transports/listener-limits.js";
import { AdminServer } from "../runtime/admin.js";
import { authFor } from "../runtime/auth.js";
import type { MeshConfig } from "../runtime/config.js";
import { log } from "../runtime/log.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Database } from "../runtime/storage/database.js";
import type { Tracing } from "../runtime/tracing.js";
import type { JobsConfig } from "./config.js";
import { JobEvents } from "./events.js";
import type { JobHandlers } from "./handler.js";
import { JobMetrics, registerQueueDepth } from "./job-metrics.js";
import { JobStore } from "./job-store.js";
import { JobQueues } from "./queues.js";
import { QueueReconciler } from "./reconciler.js";
import { checkRetentionSettings, Retention, type RetentionTarget } from "./retention.js";
import { SchedulerReconciler } from "./scheduler-reconciler.js";
import { ScheduleStore } from "./schedule-store.js";
import { checkRedisForQueues } from "./redis-policy.js";
import { JobWorker } from "./worker.js";

export interface RunningWorker {
  readonly worker: JobWorker;
  /** The admin port (metrics, /healthz, /readyz), when this call opened one. */
  readonly adminPort: number | undefined;
  /** Stops taking jobs, lets running ones finish within the grace period, hands the rest back. */
  shutdown(): Promise<void>;
}

/**
 * A job worker over a database someone else opened: `mlmesh worker` (its own
 * process, own admin port) or `mlmesh serve --worker` (inside the mesh, for
 * embedded PGlite, which only one process can open).
 */
export async function startJobWorker(options: {
  config: MeshConfig;
  jobs: JobsConfig;
  db: Database;
  handlers: JobHandlers;
  /** The process's own tracing (`mlmesh worker`), flushed when the worker stops; inside the mesh, the mesh's is used and flushed by it. */
  tracing?: Tracing;
  metrics: MeshMetrics;
  /** The areas' rows to clean up on a schedule, besides the job history (services/job-handlers.ts). */
  retention?: readonly RetentionTarget[];
  /** Open an admin port (its own process); inside the mesh, the mesh's admin port serves the metrics and queue depths. */
  openAdmin: boolean;
}): Promise<RunningWorker> {
  const { config, jobs, db } = options;
  // Before any connection opens, so a bad MLMESH_RETENTION_* refuses to start (exit 3) rather than leave a half-started worker.
  checkRetentionSettings(options.retention);
  const queues = new JobQueues(config.redisUrl, jobs);
  const events = new JobEvents(config.redisUrl, jobs.prefix, queues.connection);
  const metrics = new JobMetrics(options.metrics.registry);
  if (options.openAdmin) registerQueueDepth(options.metrics.registry, queues);
  void checkRedisForQueues(queues.connection, () => queues.ready(5000));
  // Checked on the reconciler's beat; one worker claims each hour's run (see retention.ts).
  const retention = new Retention(db.sql, queues, options.metrics.registry, options.retention);
  const store = new JobStore(db.sql);
  const schedules = new ScheduleStore(db.sql);
  const worker = new JobWorker({
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    config: jobs,
    sql: db.sql,
    databaseUrl: db.url,
    store,
    schedules,
    queues,
    events,
    handlers: options.handlers,
    metrics,
    tracer: options.tracing?.tracer,
  });
  worker.start();
  const reconciler = new QueueReconciler(
    store,
    queues,
    jobs.reconcileIntervalMs,
    new SchedulerReconciler(schedules, queues, jobs.attempts),
  );
  reconciler.start();
  retention.start(jobs.reconcileIntervalMs);

  let admin: AdminServer | undefined;
  if (options.openAdmin) {
    // The worker's admin port mounts no page behind the keys; the file is read at start only.
    const auth = authFor(config);
    admin = new AdminServer(
      listenerLimits(config),
      options.metrics,
      async () => [...((await db.ping()) ? [] : [`database unreachable (${db.kind})`]), ...(await worker.problems())],
      (headers) => auth.tryAuthenticate(headers),
    );
  }
  const adminPort = admin ? await admin.listen(config.adminPort, config.host) : undefined;
  log.info("job worker started", { concurrency: jobs.concurrency, prefix: jobs.prefix, adminPort });

  let stopping: Promise<void> | undefined;
  return {
    worker,
    adminPort,
    shutdown: () =>
      (stopping ??= (async () => {
        reconciler.stop();
        retention.stop();
        await worker.shutdown(config.shutdownGraceMs);
        events.close();
        await queues.close();
        await admin?.close();
        // The spans of the jobs that ran, batched until now, go out before the process exits.
        await options.tracing?.shutdown();
      })()),
  };
}
