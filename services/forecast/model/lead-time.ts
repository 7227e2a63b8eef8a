import { InvalidForecastInputError } from "./errors.js";
import type { ForecastResult } from "./forecast.js";

/**
 * Demand over the next `days` days as a predictive distribution, the one
 * stockout confidence and reorder points are read from. A daily band cannot
 * give it: errors persist from day to day (a level that is off stays off), so
 * sums are wider than independent days suggest. Instead each backtest origin
 * contributes every window of the same length within its horizon, scored by
 * the log ratio of actual to forecast demand over it (each side plus one
 * day's mean demand, so zero-forecast windows of intermittent series stay
 * finite). Windows longer than the backtest horizon use the whole horizon.
 *
 * Those windows overlap and share their origin's level error, so a handful of
 * origins is all the independent evidence there is, and their spread alone
 * understates the next origin's error (the reorder points it gave held in 88%
 * of lead times asked to hold in 95%). The distribution is therefore
 * calibrated across origins, jackknife+-style: each origin's scores are
 * standardised by the mean and spread of the OTHER origins' scores, and the
 * predictive draws are the mean and spread of all scores applied to those
 * leave-one-origin-out standardised scores (crossOriginDraws). An origin
 * unlike the rest widens the tails by as much as it was missed by. With one
 * origin there is nothing to leave out and the draws are its scores as they
 * are. That widens both tails alike, while the misses are often one-sided
 * (on US births almost every stock level given an 80% chance of running out
 * ran out), so the draws are then recalibrated on the same origins
 * (recalibratedDraws): each origin ranked among the others' draws, the draws
 * read at those ranks, which narrows or widens each side by what the origins
 * show. Developed on the evaluation's development series only (eval/series.ts).
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

export interface LeadTimeOptions {
  /** False gives the origins' scores as they are, without the cross-origin calibration (to show what it corrects). */
  calibrated?: boolean;
}

export function leadTimeDemand(forecast: ForecastResult, days: number, options: LeadTimeOptions = {}): LeadTimeDemand {
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
  const scores = windowScores(actual, predicted, Math.min(days, steps), pseudo);
  const draws = options.calibrated === false ? scores.flat() : recalibratedDraws(scores);
  const scaled = sum + pseudo * days;
  const samples = (draws.length ? draws : [0]).map((x) => Math.max(0, scaled * Math.exp(x) - pseudo * days)).sort((x, y) => x - y);
  return { days, forecast: sum, mean: samples.reduce((x, y) => x + y, 0) / samples.length, samples };
}

/** Per origin, the log ratio of actual to forecast demand (plus pseudo-demand) over every window of the given length. */
export function windowScores(actual: readonly number[][], predicted: readonly number[][], window: number, pseudo: number): number[][] {
  const steps = actual[0]?.length ?? 0;
  const out: number[][] = [];
  for (let j = 0; j < actual.length; j++) {
    const row: number[] = [];
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
      const extra = pseudo * window;
      // Both sides are positive unless the series is all zeros (pseudo 0): then the ratio is 1.
      row.push(a + extra > 0 && p + extra > 0 ? Math.log((a + extra) / (p + extra)) : 0);
    }
    out.push(row);
  }
  return out;
}

/**
 * Predictive draws of a new origin's score: every score standardised by the
 * mean and standard deviation of the other origins' scores, then put back on
 * the scale of all scores, widened by sqrt(1 + 1/J) for J origins (a new
 * draw's distance from a mean estimated from J origins, as in any prediction
 * interval). A spread of zero among the others (identical origins) is floored
 * at a tenth of the overall spread, so one differing origin widens the draws
 * without dividing by zero.
 */
export function crossOriginDraws(scores: readonly number[][]): number[] {
  const all = scores.flat();
  if (scores.length < 2 || all.length < 2) return all;
  const overall = moments(all);
  const floor = Math.max(1e-12, overall.sd / 10);
  const inflate = Math.sqrt(1 + 1 / scores.length);
  const draws: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    const others = moments(scores.filter((_, k) => k !== j).flat());
    const sd = Math.max(floor, others.sd);
    for (const x of scores[j]) draws.push(overall.mean + inflate * overall.sd * ((x - others.mean) / sd));
  }
  return draws;
}

/**
 * The cross-origin draws, recalibrated on the series' own backtest (quantile
 * recalibration): each origin's window scores are ranked among the
 * cross-origin draws of the OTHER origins (their probability integral
 * transforms), and the draws are the cross-origin draws' quantiles at those
 * ranks. If the held-out origins fall in the middle of what the others
 * predict, the ranks bunch up and the draws narrow; if one side is missed
 * more often than the other, that side widens alone, which one location and
 * one scale cannot do. The ranks are the predictive CDF's calibration map;
 * reading the draws at them applies it, so the reorder point (a quantile) and
 * the stockout probability (a tail share) come from the same recalibrated
 * distribution. With one origin there are no others to rank against and the
 * cross-origin draws stand as they are.
 */
export function recalibratedDraws(scores: readonly number[][]): number[] {
  const draws = crossOriginDraws(scores).sort((a, b) => a - b);
  if (scores.length < 2 || draws.length < 2) return draws;
  const out: number[] = [];
  const last = draws.length - 1;
  for (let j = 0; j < scores.length; j++) {
    const others = crossOriginDraws(scores.filter((_, k) => k !== j)).sort((a, b) => a - b);
    const top = others.length - 1;
    for (const x of scores[j]) {
      // Beyond everything the others predicted, the rank (0 or 1) cannot say by how much: carry the overshoot past the draws' end.
      if (x < others[0]) out.push(draws[0] - (others[0] - x));
      else if (x > others[top]) out.push(draws[last] + (x - others[top]));
      else out.push(quantileOf(draws, rankOf(others, x)));
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * The probability integral transform of x among the ascending `xs`: the
 * inverse of quantileOf, linear between draws (so scores falling in a gap
 * between two origins' draws keep their order instead of tying), ties at
 * their middle rank.
 */
export function rankOf(xs: readonly number[], x: number): number {
  const n = xs.length;
  const lo = lowerBound(xs, x);
  let hi = lo;
  while (hi < n && xs[hi] <= x) hi++;
  if (hi > lo) return (lo + hi) / 2 / n;
  if (lo === 0) return 0;
  if (lo === n) return 1;
  return (lo - 0.5 + (x - xs[lo - 1]) / (xs[lo] - xs[lo - 1])) / n;
}

/** The u-quantile of the ascending `xs`, the i-th at (i + 1/2)/n, linear between, the ends beyond. */
export function quantileOf(xs: readonly number[], u: number): number {
  const t = u * xs.length - 0.5;
  if (t <= 0) return xs[0];
  if (t >= xs.length - 1) return xs[xs.length - 1];
  const i = Math.floor(t);
  return xs[i] + (t - i) * (xs[i + 1] - xs[i]);
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function moments(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd };
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
export function reorderPoint(
  forecast: ForecastResult,
  leadTimeDays: number,
  serviceLevel: number,
  options: LeadTimeOptions = {},
): ReorderPoint {
  if (!(serviceLevel > 0 && serviceLevel < 1)) {
    throw new InvalidForecastInputError("service_level", "service_level.range", "service_level must be between 0 and 1");
  }
  const demand = leadTimeDemand(forecast, leadTimeDays, options);
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
