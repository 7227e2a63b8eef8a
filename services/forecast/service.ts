import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import { WorkerPool } from "../runtime/worker-pool.js";
import { forecastHandlers, MODEL } from "./handlers.js";
import { CachedChoices } from "./choice-cache.js";
import { ModelChoices } from "./model-choices.js";
import { PredictionCache } from "./prediction-cache.js";
import { INFER } from "../runtime/keys/scopes.js";

export const forecastArea: AreaFactory = (deps) =>
  forecastAreaWith(new URL(`./compute.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url))(deps);

/**
 * The Forecast API fitting with the given module's `forecast` and `stockout`
 * (compute.ts; tests give a stand-in whose fits they control). Fits run on
 * FORECAST_WORKERS threads behind a queue of FORECAST_QUEUE_DEPTH: past it a
 * call answers RESOURCE_EXHAUSTED, and a call that is cancelled or expires
 * drops its waiting fit or stops its running one.
 */
export function forecastAreaWith(computeModule: URL): AreaFactory {
  return async (deps) => {
    const tasks = deps.metrics.workerPoolTasks;
    const queued = deps.metrics.workerPoolQueued.labels(MODEL);
    const running = deps.metrics.workerPoolRunning.labels(MODEL);
    const pool = new WorkerPool(computeModule, deps.config.forecastWorkers, {
      name: "forecast",
      maxQueued: deps.config.forecastQueueDepth,
      observe: {
        outcome: (outcome) => tasks.labels(MODEL, outcome).inc(),
        depth: (q, r) => {
          queued.set(q);
          running.set(r);
        },
      },
    });
    const cache = new PredictionCache(deps.db.sql);
    const choices = await CachedChoices.open(deps.db, new ModelChoices(deps.db.sql));
    return {
      service: ForecastService,
      scopes: INFER,
      impl: forecastHandlers({
        sql: deps.db.sql,
        pool,
        cache,
        choices,
        metrics: deps.metrics,
      }),
      close: async () => {
        await pool.close();
        // Before the database closes: the answers already sent are cached.
        await cache.flush();
        await choices.close();
      },
    };
  };
}
