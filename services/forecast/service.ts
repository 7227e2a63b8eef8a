import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ForecastDemandResponseSchema,
  ForecastService,
  HolidayCalendar,
  PredictStockoutResponseSchema,
  type TransactionRecord,
} from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { AreaDeps, AreaFactory } from "../runtime/area.js";
import type { CallContext } from "../runtime/context.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import { Status } from "../runtime/status.js";
import { WorkerPool } from "../runtime/worker-pool.js";
import { computeOptions, demandCacheKey, demandResponse } from "./demand-response.js";
import { loadHistory } from "./history.js";
import type { DailyQuantity } from "./model/daily-series.js";
import type { ForecastResult } from "./model/forecast.js";
import type { StockoutResult } from "./model/stockout.js";
import { PredictionCache, type PredictionKind } from "./prediction-cache.js";

const MODEL = "forecast";

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
    return {
      service: ForecastService,
      impl: forecastService(deps, pool, cache),
      close: () => pool.close(),
    };
  };
}

interface Common {
  productId: string;
  horizonDays: number;
  transactionData: TransactionRecord[];
  cacheBypass: boolean;
  holidayCalendar: HolidayCalendar;
  holidayDates: string[];
}

function forecastService(deps: AreaDeps, pool: WorkerPool, cache: PredictionCache): ServiceImpl<typeof ForecastService> {
  const { metrics } = deps;

  /** History, cache key and options shared by both methods. */
  async function prepare(req: Common, intervalLevel: number) {
    const history: DailyQuantity[] = req.transactionData.length
      ? req.transactionData.map((t) => ({ date: t.date, quantity: t.quantity }))
      : await loadHistory(deps.db.sql, req.productId).catch((err) => {
          log.warn("could not read transactions", { error: String(err) });
          throw MeshError.unavailable("transactions are unavailable: the database cannot be reached");
        });
    const options = computeOptions(req.horizonDays, intervalLevel, req.holidayCalendar === HolidayCalendar.US ? "US" : undefined, req.holidayDates);
    return { history, options };
  }

  /** Serves from ml_predictions unless bypassed; a cache that cannot be reached is skipped, not fatal. */
  async function cached(kind: PredictionKind, req: Common, key: string): Promise<Uint8Array | undefined> {
    if (req.cacheBypass) return undefined;
    try {
      const hit = await cache.get(req.productId, kind, req.horizonDays, key);
      (hit ? metrics.cacheHits : metrics.cacheMisses).labels("forecast").inc();
      return hit;
    } catch (err) {
      metrics.cacheMisses.labels("forecast").inc();
      log.warn("prediction cache unavailable", { error: String(err) });
      return undefined;
    }
  }

  async function store(kind: PredictionKind, req: Common, key: string, bytes: Uint8Array, model: string): Promise<void> {
    try {
      await cache.put(req.productId, kind, req.horizonDays, key, bytes, model);
    } catch (err) {
      log.warn("could not write the prediction cache", { error: String(err) });
    }
  }

  async function compute<T>(fn: "forecast" | "stockout", ctx: CallContext, ...args: unknown[]): Promise<T> {
    metrics.inferenceRequests.labels(MODEL).inc();
    const timer = metrics.inferenceDuration.labels(MODEL).startTimer();
    try {
      // A call that is cancelled or expires drops its waiting fit, or stops its running one.
      return await pool.runWith<T>({ signal: ctx.signal }, fn, ...args);
    } catch (err) {
      throw toMeshError(err, metrics.inferenceErrors.labels(MODEL));
    } finally {
      timer();
    }
  }

  return {
    async forecastDemand(req, ctx) {
      const level = req.intervalLevel || 0.95;
      const { history, options } = await prepare(req, level);
      const key = demandCacheKey(options, history);
      const hit = await cached("demand", req, key);
      if (hit) return { ...fromBinary(ForecastDemandResponseSchema, hit), cached: true };
      const result = await compute<ForecastResult>("forecast", ctx, history, options);
      const response = demandResponse(req.productId, req.horizonDays, result);
      await store("demand", req, key, toBinary(ForecastDemandResponseSchema, response), result.model);
      return response;
    },

    async predictStockout(req, ctx) {
      const { history, options } = await prepare(req, 0.95);
      const stockOptions = { ...options, currentStockUnits: req.currentStockUnits };
      const key = PredictionCache.key({ v: 1, options: stockOptions, history });
      const hit = await cached("stockout", req, key);
      if (hit) return { ...fromBinary(PredictStockoutResponseSchema, hit), cached: true };
      const result = await compute<StockoutResult>("stockout", ctx, history, stockOptions);
      const response = create(PredictStockoutResponseSchema, {
        productId: req.productId,
        predictedStockoutDate: result.stockoutDate ?? "",
        daysUntilStockout: result.daysUntilStockout ?? undefined,
        confidence: result.confidence,
        dailyUsageForecast: result.dailyUsageForecast,
        generatedAt: timestampFromDate(new Date()),
        model: result.forecast.model,
        cached: false,
      });
      await store("stockout", req, key, toBinary(PredictStockoutResponseSchema, response), result.forecast.model);
      return response;
    },
  };
}

/** The model's typed errors, as they arrive from the worker thread (by name), to statuses. */
function toMeshError(err: unknown, errors: { inc(): void }): unknown {
  if (err instanceof MeshError) return err;
  const e = err as { name?: string; message?: string; field?: string; rule?: string };
  if (e?.name === "InsufficientDataError") return new MeshError(Status.FAILED_PRECONDITION, e.message ?? "insufficient data");
  if (e?.name === "InvalidForecastInputError") {
    return new MeshError(Status.INVALID_ARGUMENT, e.message ?? "invalid input", [
      { field: e.field ?? "", rule: e.rule ?? "", message: e.message ?? "" },
    ]);
  }
  errors.inc();
  return err;
}
