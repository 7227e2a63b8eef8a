import type { JobRunContext } from "../jobs/index.js";
import { forecast } from "./compute.js";
import { computeOptions } from "./demand-response.js";
import { loadHistory } from "./history.js";
import { choiceKey, ModelChoices } from "./model-choices.js";

/** What a forecast training may be given. */
export interface ForecastTrainingParameters {
  /** The horizon the backtest picks for (it sets the backtest's own, up to 90 days); the RPCs use a choice made for their horizon. */
  horizonDays: number;
  /** Only these products; every product with transactions when absent. */
  productIds?: string[];
}

export const FORECAST_TRAINING_DEFAULTS: ForecastTrainingParameters = { horizonDays: 30 };

/**
 * Refits every product (or the listed ones): each runs the full selection
 * (every candidate on the rolling-origin backtest) and the winner, its
 * parameters, metrics and every candidate's error are stored per product with
 * the key of what it was chosen on. A product without enough history is
 * skipped and named. Rewriting a choice is an upsert, so a rerun is harmless.
 */
export async function trainForecastChoices(
  ctx: Pick<JobRunContext, "sql" | "signal" | "progress"> & { jobId?: string },
  parameters: ForecastTrainingParameters,
) {
  const products =
    parameters.productIds ??
    (await ctx.sql<{ product_id: string }[]>`select distinct product_id from transactions order by product_id`).map((r) => r.product_id);
  const choices = new ModelChoices(ctx.sql);
  // The options ForecastDemand uses by default (no holidays); the interval level does not change the choice.
  const options = computeOptions(parameters.horizonDays, 0.95, undefined, []);
  const chosen: Record<string, number> = {};
  const skipped: string[] = [];
  for (const [i, productId] of products.entries()) {
    ctx.signal.throwIfAborted();
    const history = await loadHistory(ctx.sql, productId);
    try {
      const result = forecast(history, options);
      await choices.put(
        productId,
        result,
        choiceKey(options, history),
        history.length,
        { horizon_days: parameters.horizonDays },
        ctx.jobId,
      );
      chosen[result.model] = (chosen[result.model] ?? 0) + 1;
    } catch (err) {
      if ((err as Error).name !== "InsufficientDataError") throw err;
      skipped.push(productId);
    }
    await ctx.progress(Math.floor((100 * (i + 1)) / Math.max(1, products.length)), `fitted ${i + 1} of ${products.length} products`);
  }
  return { products: products.length, trained: products.length - skipped.length, skipped, chosen };
}
