import { toBinary } from "@bufbuild/protobuf";
import { ForecastDemandResponseSchema } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { checkKnown, type JobHandler } from "../jobs/index.js";
import { forecast } from "./compute.js";
import { computeOptions, demandCacheKey, demandResponse } from "./demand-response.js";
import { loadHistory } from "./history.js";
import { PredictionCache } from "./prediction-cache.js";
import { FORECAST_TRAINING_DEFAULTS, trainForecastChoices } from "./training.js";

/** A list of product ids, as the forecast jobs take it. */
const productIds = (v: unknown) =>
  Array.isArray(v) && v.length <= 100_000 && v.every((id) => typeof id === "string" && id.length > 0 && id.length <= 128)
    ? undefined
    : "must be a list of product ids (1 to 128 characters each)";

const DEFAULT_HORIZON_DAYS = 30;
// The RPC's default interval level: a ForecastDemand call with defaults then hits what this job wrote.
const INTERVAL_LEVEL = 0.95;

/**
 * Forecasts every product (or the listed ones) and writes each forecast to
 * ml_predictions under the key ForecastDemand computes for the same request,
 * so the serving path answers from the cache. Writing is an upsert, so a
 * rerun after a crash rewrites the same rows.
 */
export const forecastAllProducts: JobHandler = {
  jobType: "inference",
  kind: "forecast_all_products",
  checkParameters: (p) =>
    checkKnown(p, {
      horizon_days: (v) =>
        Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 365 ? undefined : "must be an integer from 1 to 365",
      product_ids: productIds,
    }),
  async run(ctx) {
    const horizonDays = (ctx.job.parameters.horizon_days as number | undefined) ?? DEFAULT_HORIZON_DAYS;
    const listed = ctx.job.parameters.product_ids as string[] | undefined;
    const products =
      listed ??
      (await ctx.sql<{ product_id: string }[]>`select distinct product_id from transactions order by product_id`).map((r) => r.product_id);
    const cache = new PredictionCache(ctx.sql);
    const options = computeOptions(horizonDays, INTERVAL_LEVEL, undefined, []);
    let forecasted = 0;
    const skipped: string[] = [];
    for (const [i, productId] of products.entries()) {
      ctx.signal.throwIfAborted();
      const history = await loadHistory(ctx.sql, productId);
      try {
        const result = forecast(history, options);
        const response = demandResponse(productId, horizonDays, result);
        await cache.put(
          productId,
          "demand",
          horizonDays,
          demandCacheKey(options, history),
          toBinary(ForecastDemandResponseSchema, response),
          result.model,
        );
        forecasted++;
      } catch (err) {
        if ((err as Error).name !== "InsufficientDataError") throw err;
        skipped.push(productId);
      }
      await ctx.progress(Math.floor((100 * (i + 1)) / products.length), `forecast ${i + 1} of ${products.length} products`);
    }
    return {
      products: products.length,
      forecasted,
      skipped: skipped.length,
      skipped_products: skipped.slice(0, 20),
      horizon_days: horizonDays,
    };
  },
};

/**
 * Refits every product and stores the model the backtest chose for each
 * (forecast_model_choices); the forecast RPCs then fit only that model while
 * the history is unchanged. A forecast "model" is per product and cheap to
 * refit, so there is no registry version to promote: the choice is the model.
 */
export const trainForecast: JobHandler = {
  jobType: "training",
  kind: "forecast",
  checkParameters: (p) =>
    checkKnown(p, {
      horizon_days: (v) =>
        Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 365 ? undefined : "must be an integer from 1 to 365",
      product_ids: productIds,
    }),
  async run(ctx) {
    const p = ctx.job.parameters;
    const outcome = await trainForecastChoices(
      { sql: ctx.sql, signal: ctx.signal, progress: ctx.progress, jobId: ctx.job.jobId },
      {
        horizonDays: (p.horizon_days as number | undefined) ?? FORECAST_TRAINING_DEFAULTS.horizonDays,
        productIds: p.product_ids as string[] | undefined,
      },
    );
    return { ...outcome, skipped: outcome.skipped.length, skipped_products: outcome.skipped.slice(0, 20) };
  },
};

/** Forecast's jobs: choosing each product's model, and forecasting every product ahead of the calls that ask. */
export const forecastJobs: readonly JobHandler[] = [trainForecast, forecastAllProducts];

/** The cached forecasts the workers' retention clean-up removes once expired (retention.ts). */
export { predictionsRetention } from "./retention.js";
