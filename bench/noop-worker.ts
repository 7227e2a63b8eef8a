import { loadJobsConfig } from "../services/jobs/config.js";
import { startJobWorker } from "../services/jobs/worker-process.js";
import { loadConfig } from "../services/runtime/config.js";
import { setLogLevel } from "../services/runtime/log.js";
import { MeshMetrics } from "../services/runtime/metrics.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { noopHandlers } from "./noop-handlers.js";

/**
 * The benchmark's worker process: what `mlmesh worker` runs (startJobWorker,
 * in a process of its own beside the API), with the no-op handlers.
 */
const config = loadConfig();
setLogLevel("error");
const db = await openDatabase({ url: config.databaseUrl, dataDir: "" });
const running = await startJobWorker({
  config,
  jobs: loadJobsConfig(),
  db,
  handlers: noopHandlers,
  metrics: new MeshMetrics(),
  openAdmin: false,
});
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void running
    .shutdown()
    .then(() => db.close())
    .finally(() => process.exit(0));
});
