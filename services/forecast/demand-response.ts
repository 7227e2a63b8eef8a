import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ForecastDemandResponseSchema,
  ModelMetricsSchema,
  type ForecastDemandResponse,
  type ModelMetrics,
} from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { ComputeOptions, DemandForecast } from "./compute.js";
import type { DailyQuantity } from "./model/daily-series.js";
import type { ForecastResult } from "./model/forecast.js";
import { PredictionCache } from "./prediction-cache.js";

/** Every input that changes a demand forecast; the batch job and the RPC must build it the same way to share cache entries. */
export function demandCacheKey(options: ComputeOptions, history: DailyQuantity[]): string {
  return PredictionCache.key({ v: 1, options, history });
}

export function computeOptions(horizonDays: number, intervalLevel: number, calendar: "US" | undefined, dates: string[]): ComputeOptions {
  return { horizonDays, intervalLevel, holidays: { calendar, dates } };
}

export function demandResponse(productId: string, horizonDays: number, result: DemandForecast): ForecastDemandResponse {
  return create(ForecastDemandResponseSchema, {
    productId,
    predictions: result.predictions.map((p) => ({ ds: p.date, yhat: p.value, yhatLower: p.lower, yhatUpper: p.upper })),
    modelMetrics: modelMetrics(result),
    generatedAt: timestampFromDate(new Date()),
    horizonDays,
    model: result.model,
    cached: false,
    intervalLevel: result.intervalLevel,
  });
}

/** The chosen model's backtest metrics, as every forecast answer reports them. */
export function modelMetrics(result: Pick<ForecastResult, "metrics" | "trainingSamples" | "seasonality">): ModelMetrics {
  return create(ModelMetricsSchema, {
    mape: result.metrics.mape,
    rmse: result.metrics.rmse,
    mase: result.metrics.mase,
    wape: result.metrics.wape,
    intervalCoverage: result.metrics.intervalCoverage,
    trainingSamples: result.trainingSamples,
    seasonalityDetected: result.seasonality.periodsDays.length > 0,
    seasonalityPeriodsDays: result.seasonality.periodsDays,
  });
}
