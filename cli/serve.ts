import { areas } from "../services/areas.js";
import { jobHandlers, retentionTargets } from "../services/job-handlers.js";
import { loadConfig } from "../services/runtime/config.js";
import { setLogLevel } from "../services/runtime/log.js";
import { startMesh } from "../services/runtime/mesh.js";
import { loadJobsConfig } from "../services/jobs/config.js";
import { loadDeliveryConfig } from "../services/notify/delivery/config.js";
import { startJobWorker } from "../services/jobs/worker-process.js";
import { parseArgs } from "./args.js";
import { installLastResort } from "./last-resort.js";
import { CliUsageError } from "./exit.js";
import { untilSignal } from "./signals.js";

export const serveUsage = `mlmesh serve [--worker]

Starts the mesh: gRPC (GRPC_PORT, 50051), Connect (CONNECT_PORT, 8080),
REST gateway (GATEWAY_PORT, 8000) and admin (ADMIN_PORT, 9464).
Configuration comes from the environment: MLMESH_API_KEYS and/or
MLMESH_API_KEYS_FILE (or MLMESH_AUTH_DISABLED=true, local only), MLMESH_REFLECTION, DATABASE_URL (embedded PGlite under
MLMESH_DATA_DIR when unset), REDIS_URL, LOG_LEVEL, MLMESH_MAX_MESSAGE_BYTES,
MLMESH_SHUTDOWN_GRACE_MS, FORECAST_WORKERS, FORECAST_QUEUE_DEPTH,
MATCH_BATCH_MAX, MATCH_BATCH_WAIT_MS, MATCH_PREDICTION_CACHE_TTL_MS,
MLMESH_MODEL_KEEP_VERSIONS, and for tracing OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
OTEL_TRACES_SAMPLER_ARG (each checked at start: a bad value refuses to
start, naming it). SIGTERM drains in-flight calls, flushes the spans not yet
exported, then exits 0; SIGHUP
re-reads MLMESH_API_KEYS_FILE.

Options:
  --worker   also run a job worker in this process (what \`make dev\` does:
             embedded PGlite can be opened by one process only); production
             runs \`mlmesh worker\` processes instead.`;

export async function serve(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { worker: "boolean" });
  if (positional.length) throw new CliUsageError(`serve: unexpected argument '${positional[0]}'`);
  const config = loadConfig();
  setLogLevel(config.logLevel);
  const jobs = loadJobsConfig();
  // Checked before anything starts, as the mesh's own settings are; the delivery area reads them again.
  loadDeliveryConfig();
  const mesh = await startMesh(config, { areas });
  const worker = options.worker
    ? await startJobWorker({
        config,
        jobs,
        db: mesh.db,
        handlers: jobHandlers,
        retention: retentionTargets,
        metrics: mesh.metrics,
        openAdmin: false,
      })
    : undefined;
  const stop = async () => {
    // Jobs first: they need the database the mesh closes last.
    await worker?.shutdown();
    await mesh.shutdown();
  };
  // SIGHUP re-reads MLMESH_API_KEYS_FILE (the file is also watched); without a listener Node would exit on it.
  process.on("SIGHUP", () => void mesh.reloadKeys());
  installLastResort(stop);
  return untilSignal(stop);
}
