import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ComputeReorderPointResponseSchema,
  ForecastDemandResponseSchema,
  HolidayCalendar,
  PredictStockoutResponseSchema,
  type ComputeReorderPointRequest,
  type ForecastDemandRequest,
  type ForecastService,
  type PredictStockoutRequest,
  type TransactionRecord,
} from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { CallContext } from "../runtime/context.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import { Status } from "../runtime/status.js";
import type { Sql } from "../runtime/storage/database.js";
import type { WorkerPool } from "../runtime/worker-pool.js";
import type { ComputeOptions, DemandForecast } from "./compute.js";
import { computeOptions, demandCacheKey, demandResponse, modelMetrics } from "./demand-response.js";
import { loadHistory } from "./history.js";
import type { ChoiceLookup } from "./choice-cache.js";
import { choiceKey } from "./model-choices.js";
import type { DailyQuantity } from "./model/daily-series.js";
import { MODEL_VERSION, type ForecastResult } from "./model/forecast.js";
import type { ReorderPoint } from "./model/lead-time.js";
import type { StockoutResult } from "./model/stockout.js";
import { packedHistory } from "./packed-history.js";
import { PredictionCache, type PredictionKind } from "./prediction-cache.js";

/** How the forecasts are labelled in the metrics. */
export const MODEL = "forecast";

/** What the Forecast handlers work with, built once by forecastArea. */
export interface ForecastParts {
  readonly sql: Sql;
  readonly pool: WorkerPool;
  readonly cache: PredictionCache;
  /** The models `forecast` training chose per product. */
  readonly choices: ChoiceLookup;
  readonly metrics: MeshMetrics;
}

/** What both requests share: the product, its data (or none: read it), and how to cache and fit. */
interface Common {
  productId: string;
  horizonDays: number;
  transactionData: TransactionRecord[];
  cacheBypass: boolean;
  holidayCalendar: HolidayCalendar;
  holidayDates: string[];
}

export function forecastHandlers(parts: ForecastParts): ServiceImpl<typeof ForecastService> {
  return {
    forecastDemand: (req, ctx) => forecastDemand(parts, req, ctx),
    predictStockout: (req, ctx) => predictStockout(parts, req, ctx),
    computeReorderPoint: (req, ctx) => computeReorderPoint(parts, req, ctx),
  };
}

async function forecastDemand(parts: ForecastParts, req: ForecastDemandRequest, ctx: CallContext) {
  const level = req.intervalLevel || 0.95;
  const { history, options } = await prepare(parts, req, level);
  const key = demandCacheKey(options, history);
  const hit = await cached(parts, "demand", req, key);
  if (hit) return { ...fromBinary(ForecastDemandResponseSchema, hit), cached: true };
  const result = await compute<DemandForecast>(parts, "demand", ctx, history, await withChoice(parts, req.productId, options, history));
  const response = demandResponse(req.productId, req.horizonDays, result);
  store(parts, "demand", req, key, () => toBinary(ForecastDemandResponseSchema, response), result.model);
  return response;
}

async function predictStockout(parts: ForecastParts, req: PredictStockoutRequest, ctx: CallContext) {
  const { history, options } = await prepare(parts, req, 0.95);
  const stockOptions = { ...options, currentStockUnits: req.currentStockUnits };
  // The method's version keys the cache, so a recalibrated distribution is not answered from an older one's entry.
  const key = PredictionCache.key({ v: MODEL_VERSION, options: stockOptions, history });
  const hit = await cached(parts, "stockout", req, key);
  if (hit) return { ...fromBinary(PredictStockoutResponseSchema, hit), cached: true };
  const result = await compute<StockoutResult>(
    parts,
    "stockout",
    ctx,
    history,
    await withChoice(parts, req.productId, stockOptions, history),
  );
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
  store(parts, "stockout", req, key, () => toBinary(PredictStockoutResponseSchema, response), result.forecast.model);
  return response;
}

/**
 * Fits over at least REORDER_FIT_HORIZON days (the evaluation's horizon), so a
 * short lead time still gets a backtest long enough to calibrate its
 * lead-time distribution; the answer is the same distribution PredictStockout
 * reads over that many days.
 */
const REORDER_FIT_HORIZON = 90;

async function computeReorderPoint(parts: ForecastParts, req: ComputeReorderPointRequest, ctx: CallContext) {
  const horizonDays = Math.min(365, Math.max(REORDER_FIT_HORIZON, req.leadTimeDays));
  const { history, options } = await prepare(parts, { ...req, horizonDays }, 0.95);
  const reorderOptions = { ...options, leadTimeDays: req.leadTimeDays, serviceLevel: req.serviceLevel };
  const key = PredictionCache.key({ v: MODEL_VERSION, options: reorderOptions, history });
  const common = { ...req, horizonDays: req.leadTimeDays };
  const hit = await cached(parts, "reorder_point", common, key);
  if (hit) return { ...fromBinary(ComputeReorderPointResponseSchema, hit), cached: true };
  const result = await compute<ReorderPoint & { forecast: ForecastResult }>(
    parts,
    "reorderPoint",
    ctx,
    history,
    await withChoice(parts, req.productId, reorderOptions, history),
  );
  const response = create(ComputeReorderPointResponseSchema, {
    productId: req.productId,
    leadTimeDays: result.leadTimeDays,
    serviceLevel: result.serviceLevel,
    reorderPointUnits: result.reorderPoint,
    safetyStockUnits: result.safetyStock,
    expectedLeadTimeDemandUnits: result.expectedLeadTimeDemand,
    model: result.forecast.model,
    modelVersion: MODEL_VERSION,
    modelMetrics: modelMetrics(result.forecast),
    generatedAt: timestampFromDate(new Date()),
    cached: false,
  });
  store(parts, "reorder_point", common, key, () => toBinary(ComputeReorderPointResponseSchema, response), result.forecast.model);
  return response;
}

/** History, cache key and options shared by every method. */
async function prepare(parts: ForecastParts, req: Common, intervalLevel: number) {
  // A TransactionRecord is a DailyQuantity (date, quantity): read as sent, not copied.
  const history: DailyQuantity[] = req.transactionData.length
    ? req.transactionData
    : await loadHistory(parts.sql, req.productId).catch((err) => {
        log.warn("could not read transactions", { error: String(err) });
        throw MeshError.unavailable("transactions are unavailable: the database cannot be reached");
      });
  const options = computeOptions(
    req.horizonDays,
    intervalLevel,
    req.holidayCalendar === HolidayCalendar.US ? "US" : undefined,
    req.holidayDates,
  );
  return { history, options };
}

/**
 * The options a fit runs with: only the stored choice's candidates when
 * `forecast` training chose on this very history, horizon and holidays (the
 * same winner, for a fraction of the fits), else every candidate. Added after
 * the cache key is made, which it does not change. A choice that cannot be
 * read costs the full selection, not the call.
 */
async function withChoice<O extends ComputeOptions>(
  parts: ForecastParts,
  productId: string,
  options: O,
  history: DailyQuantity[],
): Promise<O> {
  const candidates = await parts.choices.competitors(productId, choiceKey(options, history)).catch((err) => {
    log.warn("could not read the stored model choice", { error: String(err) });
    return undefined;
  });
  return candidates ? { ...options, candidates } : options;
}

/** Serves from ml_predictions unless bypassed; a cache that cannot be reached is skipped, not fatal. */
async function cached({ cache, metrics }: ForecastParts, kind: PredictionKind, req: Common, key: string): Promise<Uint8Array | undefined> {
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

/** Caches an answer in the background: the call answers without waiting for the write (see PredictionCache.write). */
function store({ cache }: ForecastParts, kind: PredictionKind, req: Common, key: string, encode: () => Uint8Array, model: string): void {
  cache.write(req.productId, kind, req.horizonDays, key, encode, model, (err) => {
    log.warn("could not write the prediction cache", { error: String(err) });
  });
}

/**
 * Fits on a worker thread, the history packed for the crossing (the packing
 * its cache keys were hashed from); a call that is cancelled or expires
 * drops its waiting fit, or stops its running one.
 */
async function compute<T>(
  { pool, metrics }: ForecastParts,
  fn: "demand" | "stockout" | "reorderPoint",
  ctx: CallContext,
  history: DailyQuantity[],
  options: ComputeOptions,
): Promise<T> {
  metrics.inferenceRequests.labels(MODEL).inc();
  const timer = metrics.inferenceDuration.labels(MODEL).startTimer();
  try {
    return await pool.runWith<T>({ signal: ctx.signal }, fn, packedHistory(history), options);
  } catch (err) {
    throw toMeshError(err, metrics.inferenceErrors.labels(MODEL));
  } finally {
    timer();
  }
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
