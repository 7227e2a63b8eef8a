import type { Sql } from "../runtime/storage/database.js";
import type { ComputeOptions } from "./compute.js";
import type { DailyQuantity } from "./model/daily-series.js";
import { competitorsOf, MODEL_VERSION, type ForecastResult } from "./model/forecast.js";
import { PredictionCache } from "./prediction-cache.js";

/** A product's stored choice: the model `forecast` training picked, and what it was picked on. */
export interface ModelChoice {
  productId: string;
  model: string;
  methodVersion: string;
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  candidates: { model: string; mae: number }[];
  historyHash: string;
  historyDays: number;
  trainedAt: Date;
}

/**
 * Everything that decides which candidate wins the backtest: the method's
 * version, the history, the horizon (it sets the backtest's) and the
 * holidays. Not the interval level, which only widens the winner's
 * intervals. Equal keys mean the same winner.
 */
export function choiceKey(options: ComputeOptions, history: readonly DailyQuantity[]): string {
  return PredictionCache.key({ v: MODEL_VERSION, horizonDays: options.horizonDays, holidays: options.holidays, history });
}

/**
 * The chosen model per product (forecast_model_choices), written by `forecast`
 * training and read by ForecastDemand, PredictStockout and ComputeReorderPoint:
 * when a product's stored choice was made on the same key, only the chosen
 * candidate (or an ensemble's members) is refitted, which gives the same
 * answer as a full selection for a fraction of the fits.
 */
export class ModelChoices {
  constructor(private readonly sql: Sql) {}

  /** Records a product's choice; a rerun overwrites it. */
  async put(
    productId: string,
    result: ForecastResult,
    key: string,
    historyDays: number,
    parameters: Record<string, unknown>,
    jobId?: string,
  ) {
    await this.sql`
      insert into forecast_model_choices (product_id, model, method_version, parameters, metrics, candidates, history_hash, history_days, job_id)
      values (${productId}, ${result.model}, ${MODEL_VERSION}, ${this.sql.json(parameters as never)}, ${this.sql.json(result.metrics as never)},
              ${this.sql.json(result.candidates as never)}, ${key}, ${historyDays}, ${jobId ?? null})
      on conflict (product_id) do update set
        model = excluded.model, method_version = excluded.method_version, parameters = excluded.parameters, metrics = excluded.metrics,
        candidates = excluded.candidates, history_hash = excluded.history_hash, history_days = excluded.history_days,
        job_id = excluded.job_id, trained_at = now()`;
  }

  async get(productId: string): Promise<ModelChoice | undefined> {
    const [r] = await this.sql<
      {
        product_id: string;
        model: string;
        method_version: string;
        parameters: Record<string, unknown>;
        metrics: Record<string, unknown>;
        candidates: { model: string; mae: number }[];
        history_hash: string;
        history_days: number;
        trained_at: Date;
      }[]
    >`select * from forecast_model_choices where product_id = ${productId}`;
    return (
      r && {
        productId: r.product_id,
        model: r.model,
        methodVersion: r.method_version,
        parameters: r.parameters,
        metrics: r.metrics,
        candidates: r.candidates,
        historyHash: r.history_hash,
        historyDays: r.history_days,
        trainedAt: r.trained_at,
      }
    );
  }

  /** The candidates to fit for a request: the stored choice's when it was made on the same key, else all (undefined). */
  async competitors(productId: string, key: string): Promise<string[] | undefined> {
    const [r] = await this.sql<{ model: string }[]>`
      select model from forecast_model_choices where product_id = ${productId} and history_hash = ${key} and method_version = ${MODEL_VERSION}`;
    return r ? competitorsOf(r.model) : undefined;
  }
}
