import { jobHandlers, retentionTargets } from "../services/job-handlers.js";
import { loadJobsConfig } from "../services/jobs/config.js";
import { startJobWorker } from "../services/jobs/worker-process.js";
import { ConfigError, loadConfig } from "../services/runtime/config.js";
import { setLogLevel } from "../services/runtime/log.js";
import { MeshMetrics } from "../services/runtime/metrics.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { installTracing } from "../services/runtime/tracing.js";
import { parseArgs } from "./args.js";
import { installLastResort } from "./last-resort.js";
import { CliUsageError } from "./exit.js";
import { untilSignal } from "./signals.js";

export const workerUsage = `mlmesh worker [--concurrency N]

Runs training and batch-inference jobs from the queues, apart from the API.
Several can run at once, on any hosts that reach the same PostgreSQL and Redis.
Needs DATABASE_URL (embedded PGlite serves one process: use \`mlmesh serve --worker\`
to run jobs inside the mesh instead) and REDIS_URL.

Options:
  --concurrency N   jobs at once per queue (MLMESH_WORKER_CONCURRENCY, default 2)

Environment: ADMIN_PORT (metrics, /healthz, /readyz), MLMESH_SHUTDOWN_GRACE_MS
(how long SIGTERM lets running jobs finish before handing them back to the queue
without spending an attempt), MLMESH_REDIS_PREFIX (the mesh's: training jobs
announce promotions on its channel, and the queues' keys start with it unless
MLMESH_QUEUE_PREFIX names another), MLMESH_JOB_ATTEMPTS,
MLMESH_JOB_BACKOFF_MS, MLMESH_JOB_LOCK_MS, MLMESH_JOB_STALLED_INTERVAL_MS,
MLMESH_JOB_RECONCILE_INTERVAL_MS (how often to queue again what Redis lost), and
the OTEL_* tracing settings as for \`mlmesh serve\` (a job's span joins the trace
of the call that submitted it; service.name defaults to mlmesh-worker).`;

export async function worker(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { concurrency: "string" });
  if (positional.length) throw new CliUsageError(`worker: unexpected argument '${positional[0]}'`);
  const config = loadConfig();
  setLogLevel(config.logLevel);
  if (!config.databaseUrl) {
    throw new ConfigError([
      "DATABASE_URL is not set: workers share PostgreSQL with the mesh (embedded PGlite serves one process; run `mlmesh serve --worker` instead)",
    ]);
  }
  const jobs = loadJobsConfig({
    ...process.env,
    ...(options.concurrency ? { MLMESH_WORKER_CONCURRENCY: String(options.concurrency) } : {}),
  });
  const tracing = installTracing(config.tracing, { serviceName: "mlmesh-worker" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db.sql);
  const running = await startJobWorker({
    config,
    jobs,
    db,
    handlers: jobHandlers,
    retention: retentionTargets,
    tracing,
    metrics: new MeshMetrics(),
    openAdmin: true,
  });
  const stop = async () => {
    await running.shutdown();
    await db.close();
  };
  installLastResort(stop);
  return untilSignal(stop);
}
