import type { DailyQuantity } from "../model/daily-series.js";
import { forecastDemand } from "../model/forecast.js";
import type { Holiday } from "../model/holidays.js";
import { leadTimeDemand, probabilityOfExceeding, reorderPoint } from "../model/lead-time.js";
import type { Random } from "../../numeric/random.js";

/**
 * The inventory backtest of `make eval-forecast`: from origins every
 * ORIGIN_SPACING days over the last two years of a series, the model is fitted
 * on the history up to the origin (90-day horizon, as ForecastDemand and
 * ComputeReorderPoint fit) and asked
 *  - for the stock at which it puts running out by day d (d in STOCKOUT_DAYS)
 *    at STOCKOUT_CONFIDENCE; whether demand over those d days then exceeded it;
 *  - for the reorder point at SERVICE_LEVEL for each lead time in LEAD_TIMES;
 *    whether demand over the lead time stayed within it (the cycle service
 *    level), and the units it filled (the fill rate).
 * Origins are 30 days apart, so lead times up to 28 days never overlap; the
 * stockout windows up to 90 days do, which the bootstrap (origins resampled
 * within series) is too coarse to notice but the point estimate is not biased by.
 */
export const ORIGIN_SPACING = 30;
export const ORIGIN_COUNT = 22;
export const STOCKOUT_DAYS = [7, 14, 28, 56, 90];
export const STOCKOUT_CONFIDENCE = 0.8;
export const LEAD_TIMES = [7, 14, 28];
export const SERVICE_LEVEL = 0.95;
const H = 90;

/** One origin's outcomes. */
export interface InventoryOrigin {
  /** Per stockout day: the model's probability of running out at the stock it was asked about, and whether it ran out (1) or not (0). */
  stockoutPredicted: number[];
  stockoutHappened: number[];
  /** Per lead time: lead-time demand within the reorder point (1) or not (0), demand, and units filled from the reorder point. */
  served: number[];
  demand: number[];
  filled: number[];
}

export interface InventoryOptions {
  holidays: readonly Holiday[];
  /** False reads both from the uncalibrated lead-time distribution (to show the gates fail without the calibration). */
  calibrated: boolean;
  /** The chance of running out the stock levels are asked at (STOCKOUT_CONFIDENCE unless the evaluation is shown a mis-stated one). */
  stockoutConfidence?: number;
}

export function inventoryBacktest(history: readonly DailyQuantity[], values: Float64Array, options: InventoryOptions): InventoryOrigin[] {
  const n = values.length;
  const out: InventoryOrigin[] = [];
  const lt = { calibrated: options.calibrated };
  const confidence = options.stockoutConfidence ?? STOCKOUT_CONFIDENCE;
  for (let k = ORIGIN_COUNT - 1; k >= 0; k--) {
    const origin = n - H - ORIGIN_SPACING * k;
    if (origin < 2 * H) continue;
    const f = forecastDemand(history.slice(0, origin), { horizonDays: H, holidays: options.holidays });
    const actualSum = (days: number) => values.subarray(origin, origin + days).reduce((a, b) => a + b, 0);
    const o: InventoryOrigin = { stockoutPredicted: [], stockoutHappened: [], served: [], demand: [], filled: [] };
    for (const d of STOCKOUT_DAYS) {
      const demand = leadTimeDemand(f, d, lt);
      // The largest stock the model still gives at least the confidence of running out (the draws are ascending).
      const stock = demand.samples[Math.max(0, Math.ceil((1 - confidence) * demand.samples.length) - 1)];
      o.stockoutPredicted.push(probabilityOfExceeding(demand, stock));
      o.stockoutHappened.push(actualSum(d) > stock ? 1 : 0);
    }
    for (const lead of LEAD_TIMES) {
      const rop = reorderPoint(f, lead, SERVICE_LEVEL, lt).reorderPoint;
      const d = actualSum(lead);
      o.served.push(d <= rop ? 1 : 0);
      o.demand.push(d);
      o.filled.push(Math.min(d, rop));
    }
    out.push(o);
  }
  return out;
}

/** Pooled shares over origins (of one series or many). */
export interface InventorySummary {
  stockoutPredicted: number;
  stockoutHappened: number;
  stockouts: number;
  serviceLevel: number;
  fillRate: number;
  cycles: number;
}

export function summarise(origins: readonly InventoryOrigin[]): InventorySummary {
  const flat = (pick: (o: InventoryOrigin) => number[]) => origins.flatMap(pick);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const served = flat((o) => o.served);
  const demand = sum(flat((o) => o.demand));
  return {
    stockoutPredicted: mean(flat((o) => o.stockoutPredicted)),
    stockoutHappened: mean(flat((o) => o.stockoutHappened)),
    stockouts: flat((o) => o.stockoutHappened).length,
    serviceLevel: mean(served),
    // A window without demand is filled in full.
    fillRate: demand > 0 ? sum(flat((o) => o.filled)) / demand : 1,
    cycles: served.length,
  };
}

/**
 * Two-sided 95% bootstrap interval of a pooled share, origins resampled with
 * replacement within each series (so each series keeps its weight).
 */
export function bootstrapInterval(
  bySeries: readonly (readonly InventoryOrigin[])[],
  share: (s: InventorySummary) => number,
  rng: Random,
  draws = 2000,
): [number, number] {
  const values: number[] = [];
  for (let b = 0; b < draws; b++) {
    const sample: InventoryOrigin[] = [];
    for (const origins of bySeries) for (let i = 0; i < origins.length; i++) sample.push(origins[Math.floor(rng.next() * origins.length)]);
    values.push(share(summarise(sample)));
  }
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.025 * draws)], values[Math.ceil(0.975 * draws) - 1]];
}
