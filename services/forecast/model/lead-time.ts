import { InvalidForecastInputError } from "./errors.js";
import type { ForecastResult } from "./forecast.js";

/**
 * Demand over the next `days` days as a predictive distribution, the one
 * stockout confidence and reorder points are read from. A daily band cannot
 * give it: errors persist from day to day (a level that is off stays off), so
 * sums are wider than independent days suggest. Instead each backtest origin
 * contributes every window of the same length within its horizon: the ratio
 * of actual to forecast demand over that window (each side plus one day's
 * mean demand, so zero-forecast windows of intermittent series stay finite)
 * scales the forecast's own sum. Windows longer than the backtest horizon use
 * the whole horizon's ratio.
 */
export interface LeadTimeDemand {
  days: number;
  /** Sum of the point forecasts over the window. */
  forecast: number;
  /** Mean of the predictive distribution. */
  mean: number;
  /** Predictive draws, ascending. */
  samples: number[];
}

export function leadTimeDemand(forecast: ForecastResult, days: number): LeadTimeDemand {
  if (!Number.isInteger(days) || days < 1 || days > forecast.predictions.length) {
    throw new InvalidForecastInputError(
      "lead_time_days",
      "lead_time_days.range",
      `lead_time_days must be between 1 and the horizon (${forecast.predictions.length})`,
    );
  }
  const { actual, predicted } = forecast.backtest;
  const steps = actual[0]?.length ?? 0;
  let total = 0;
  let count = 0;
  for (const row of actual)
    for (const v of row) {
      total += v;
      count++;
    }
  const pseudo = count ? total / count : 0;
  let sum = 0;
  for (let s = 0; s < days; s++) sum += forecast.predictions[s].value;
  const window = Math.min(days, steps);
  const ratios: number[] = [];
  for (let j = 0; j < actual.length; j++) {
    let a = 0;
    let p = 0;
    for (let s = 0; s < window; s++) {
      a += actual[j][s];
      p += predicted[j][s];
    }
    for (let start = 0; start + window <= steps; start++) {
      if (start > 0) {
        a += actual[j][start + window - 1] - actual[j][start - 1];
        p += predicted[j][start + window - 1] - predicted[j][start - 1];
      }
      ratios.push((a + pseudo * window) / (p + pseudo * window));
    }
  }
  const scaled = sum + pseudo * days;
  const samples = (ratios.length ? ratios : [1]).map((r) => Math.max(0, scaled * r - pseudo * days)).sort((x, y) => x - y);
  return { days, forecast: sum, mean: samples.reduce((x, y) => x + y, 0) / samples.length, samples };
}

/** P(demand over the window exceeds the stock): the chance of running out by its last day. */
export function probabilityOfExceeding(demand: LeadTimeDemand, stock: number): number {
  let above = 0;
  for (const v of demand.samples) if (v > stock) above++;
  return above / demand.samples.length;
}

export interface ReorderPoint {
  leadTimeDays: number;
  serviceLevel: number;
  /** Stock on hand at which to reorder: demand over the lead time is at most this with probability `serviceLevel`. */
  reorderPoint: number;
  /** Reorder point minus the expected demand over the lead time. */
  safetyStock: number;
  expectedLeadTimeDemand: number;
}

/** Reorder point and safety stock for a lead time and a cycle service level, from the lead-time demand distribution. */
export function reorderPoint(forecast: ForecastResult, leadTimeDays: number, serviceLevel: number): ReorderPoint {
  if (!(serviceLevel > 0 && serviceLevel < 1)) {
    throw new InvalidForecastInputError("service_level", "service_level.range", "service_level must be between 0 and 1");
  }
  const demand = leadTimeDemand(forecast, leadTimeDays);
  // The smallest draw whose empirical CDF reaches the service level.
  const k = Math.min(demand.samples.length - 1, Math.max(0, Math.ceil(serviceLevel * demand.samples.length) - 1));
  const point = demand.samples[k];
  return {
    leadTimeDays,
    serviceLevel,
    reorderPoint: point,
    safetyStock: Math.max(0, point - demand.mean),
    expectedLeadTimeDemand: demand.mean,
  };
}
