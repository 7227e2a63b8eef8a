import { crostonSba, seasonalNaive, theta } from "./baselines.js";
import { formatDay } from "./calendar.js";
import { toDailySeries, type DailyQuantity, type DailySeries } from "./daily-series.js";
import type { DesignSpec } from "./design.js";
import { InvalidForecastInputError } from "./errors.js";
import type { Holiday } from "./holidays.js";
import {
  bandAt,
  calibrateIntervals,
  countInterval,
  fitCountDistribution,
  LOW_COUNT_MEAN,
  type CountDistribution,
  type IntervalBands,
} from "./intervals.js";
import { DEFAULT_PENALTIES, PrefixGrams, type Penalties } from "./ridge.js";
import { detectSeasonality, type SeasonalityFound } from "./seasonality.js";

/**
 * Version of the forecasting method (candidates, backtest, intervals and the
 * lead-time distribution), named on answers that carry a model version and
 * part of their cache keys. "2" calibrates the lead-time distribution across
 * backtest origins (lead-time.ts); "3" recalibrates it on those origins'
 * ranks, which changes stockout confidences and reorder points.
 */
export const MODEL_VERSION = "forecast-3";

export interface ForecastOptions {
  horizonDays: number;
  /** Prediction interval level in (0, 1); default 0.95. */
  intervalLevel?: number;
  holidays?: readonly Holiday[];
  /**
   * Only these candidates compete (by name; an ensemble's members stand for
   * it): a choice made earlier on the same history and options, which then
   * wins again without fitting the rest. Unknown names are ignored, and if
   * none is known every candidate competes.
   */
  candidates?: readonly string[];
}

export interface DailyForecast {
  date: string;
  value: number;
  lower: number;
  upper: number;
}

export interface ForecastMetrics {
  /** Mean absolute percentage error in percent, over backtest days with non-zero demand only (it is undefined on zero days). */
  mape: number;
  rmse: number;
  /** MAE scaled by the in-sample MAE of the 7-day seasonal naive forecast; defined on intermittent series too. */
  mase: number;
  /** Sum of absolute errors over sum of actuals, in percent: MAPE's stand-in when demand is often zero. */
  wape: number;
  /** Share of backtest actuals inside the calibrated intervals. */
  intervalCoverage: number;
  backtestOrigins: number;
  backtestHorizonDays: number;
}

export interface ForecastResult {
  predictions: DailyForecast[];
  /** The candidate that won the backtest. */
  model: string;
  metrics: ForecastMetrics;
  trainingSamples: number;
  seasonality: SeasonalityFound;
  candidates: { model: string; mae: number }[];
  intervalLevel: number;
  /** Residuals of the winner by horizon step, in its own space, for simulating demand paths. */
  bands: IntervalBands;
  space: "linear" | "log";
  /** For low counts only: the count distribution whose quantiles give the intervals. */
  counts?: CountDistribution;
  /** The winner's backtest in linear space, by origin and step: what demand over a lead time is drawn from. */
  backtest: { actual: number[][]; predicted: number[][] };
}

interface Candidate {
  name: string;
  space: "linear" | "log";
  /** Model-space forecast of `h` days after the first `length` values. */
  forecast(length: number, h: number): Float64Array;
}

/**
 * Forecasts daily demand: a Prophet-class additive model (piecewise-linear
 * trend with changepoints, weekly and yearly seasonality, holidays) fitted by
 * ridge regression, in additive and multiplicative (log) form and at several
 * trend flexibilities, against seasonal naive, Theta and (for intermittent
 * demand) Croston-SBA. A rolling-origin backtest on the series itself picks
 * the winner and calibrates its intervals from its own errors.
 */
export function forecastDemand(history: readonly DailyQuantity[], options: ForecastOptions): ForecastResult {
  const h = options.horizonDays;
  if (!Number.isInteger(h) || h < 1 || h > 365) {
    throw new InvalidForecastInputError("horizon_days", "horizon_days.range", "horizon_days must be between 1 and 365");
  }
  const level = options.intervalLevel && options.intervalLevel > 0 ? options.intervalLevel : 0.95;
  if (!(level > 0 && level < 1)) {
    throw new InvalidForecastInputError("interval_level", "interval_level.range", "interval_level must be between 0 and 1");
  }
  const series = toDailySeries(history);
  const { values, start } = series;
  const n = values.length;
  const seasonality = detectSeasonality(values, start);

  const backtestH = Math.max(1, Math.min(h, 90, Math.floor((n - 20) / 2)));
  const origins = Math.max(1, Math.min(4, Math.floor((n - 20) / backtestH)));
  const originLengths = Array.from({ length: origins }, (_, j) => n - backtestH * (origins - j));

  const candidates = only(buildCandidates(series, seasonality, options.holidays ?? [], originLengths, h), options.candidates);

  // Rolling-origin backtest: every candidate forecasts backtestH days from each origin.
  const scored = candidates
    .map((c) => {
      let absError = 0;
      let count = 0;
      const residuals: Float64Array[] = [];
      const predictions: Float64Array[] = [];
      for (const length of originLengths) {
        const f = c.forecast(length, backtestH);
        const r = new Float64Array(backtestH);
        for (let s = 0; s < backtestH; s++) {
          const actual = values[length + s];
          const predicted = Math.max(0, fromSpace(c.space, f[s]));
          absError += Math.abs(actual - predicted);
          count++;
          r[s] = toSpace(c.space, actual) - f[s];
        }
        residuals.push(r);
        predictions.push(f);
      }
      return { candidate: c, mae: absError / count, residuals, predictions };
    })
    .filter((s) => Number.isFinite(s.mae));
  scored.sort((a, b) => a.mae - b.mae);
  // The mean of the three best candidates often beats each of them; it competes on the same backtest.
  const top = scored.slice(0, 3);
  if (top.length === 3) {
    const ensemble: Candidate = {
      name: `ensemble of ${top.map((t) => t.candidate.name).join(", ")}`,
      space: "linear",
      forecast(length, steps) {
        const out = new Float64Array(steps);
        for (const t of top) {
          const f = t.candidate.forecast(length, steps);
          for (let i = 0; i < steps; i++) out[i] += Math.max(0, fromSpace(t.candidate.space, f[i])) / top.length;
        }
        return out;
      },
    };
    let absError = 0;
    const residuals: Float64Array[] = [];
    const predictions: Float64Array[] = [];
    originLengths.forEach((length, j) => {
      const f = new Float64Array(backtestH);
      for (const t of top)
        for (let i = 0; i < backtestH; i++) f[i] += Math.max(0, fromSpace(t.candidate.space, t.predictions[j][i])) / top.length;
      const r = new Float64Array(backtestH);
      for (let i = 0; i < backtestH; i++) {
        r[i] = values[length + i] - f[i];
        absError += Math.abs(r[i]);
      }
      residuals.push(r);
      predictions.push(f);
    });
    scored.push({ candidate: ensemble, mae: absError / (originLengths.length * backtestH), residuals, predictions });
    scored.sort((a, b) => a.mae - b.mae);
  }
  const winner = scored[0];

  const bands = calibrateIntervals(winner.residuals, level);
  const counts = isLowCount(values) ? countDistribution(values, originLengths, backtestH, winner) : undefined;
  const forecast = winner.candidate.forecast(n, h);
  const lastDay = start + n - 1;
  const predictions: DailyForecast[] = [];
  for (let s = 0; s < h; s++) {
    const [lower, upper] = interval(winner.candidate.space, forecast[s], bandAt(bands, s), counts, level);
    predictions.push({
      date: formatDay(lastDay + 1 + s),
      value: Math.max(0, fromSpace(winner.candidate.space, forecast[s])),
      lower,
      upper,
    });
  }

  return {
    predictions,
    model: winner.candidate.name,
    metrics: backtestMetrics(values, originLengths, backtestH, winner, bands, counts),
    trainingSamples: series.recordedDays,
    seasonality,
    candidates: scored.map((s) => ({ model: s.candidate.name, mae: s.mae })),
    intervalLevel: level,
    bands,
    space: winner.candidate.space,
    ...(counts ? { counts } : {}),
    backtest: {
      actual: originLengths.map((length) => Array.from(values.subarray(length, length + backtestH))),
      predicted: winner.predictions.map((f) => Array.from(f, (v) => Math.max(0, fromSpace(winner.candidate.space, v)))),
    },
  };
}

/** The named candidates, or all of them when none is named or none of the names is known. */
function only(candidates: Candidate[], names: readonly string[] | undefined): Candidate[] {
  if (!names?.length) return candidates;
  const kept = candidates.filter((c) => names.includes(c.name));
  return kept.length ? kept : candidates;
}

/** The candidates a chosen model stands for: an ensemble's members (it is rebuilt from them), or itself. */
export function competitorsOf(model: string): string[] {
  const members = /^ensemble of (.+)$/.exec(model)?.[1];
  // Member names hold no ", " of their own: "prophet-class additive (flexible trend)", "theta", ...
  return members ? members.split(", ") : [model];
}

/** Whole numbers with a low daily mean: the series whose intervals come from a count distribution too. */
function isLowCount(values: Float64Array): boolean {
  let sum = 0;
  for (const v of values) {
    if (!Number.isInteger(v)) return false;
    sum += v;
  }
  return sum / values.length <= LOW_COUNT_MEAN;
}

function countDistribution(
  values: Float64Array,
  originLengths: number[],
  backtestH: number,
  winner: { candidate: Candidate; predictions: Float64Array[] },
): CountDistribution {
  const actuals: number[] = [];
  const points: number[] = [];
  originLengths.forEach((length, j) => {
    for (let s = 0; s < backtestH; s++) {
      actuals.push(values[length + s]);
      points.push(Math.max(0, fromSpace(winner.candidate.space, winner.predictions[j][s])));
    }
  });
  return fitCountDistribution(actuals, points);
}

/** The interval at one day: the residual band, or for low counts the count distribution's central interval. */
function interval(
  space: "linear" | "log",
  f: number,
  [lo, hi]: [number, number],
  counts: CountDistribution | undefined,
  level: number,
): [number, number] {
  if (counts) return countInterval(counts, Math.max(0, fromSpace(space, f)), level);
  return [Math.max(0, fromSpace(space, f + lo)), Math.max(0, fromSpace(space, f + hi))];
}

function buildCandidates(
  series: DailySeries,
  seasonality: SeasonalityFound,
  holidays: readonly Holiday[],
  originLengths: number[],
  h: number,
): Candidate[] {
  const { values, start } = series;
  const n = values.length;
  const candidates: Candidate[] = [];

  // One design for the whole history: changepoints in the first 95%, so every
  // backtest origin reuses the same accumulated normal equations.
  const changepointCount = Math.min(25, Math.floor(n / 14));
  const changepoints = Array.from({ length: changepointCount }, (_, i) => Math.floor(((i + 1) * n * 0.95) / (changepointCount + 1)));
  const spec: DesignSpec = {
    start,
    scale: n,
    changepoints,
    weekly: seasonality.weekly,
    yearlyOrder: seasonality.yearly ? 10 : 0,
    holidays: holidays.filter((hd) => hd.days.some((d) => d >= start && d < start + n)),
    regressors: n >= 2 * 364 ? [lastYearDeviation(values, n + h)] : [],
  };
  const scale = Math.max(1e-9, values.reduce((a, b) => a + b, 0) / n);
  const linear = values.map((v) => v / scale);
  const log = values.map((v) => Math.log1p(v));
  const grams = new PrefixGrams(spec, [linear, log], [...originLengths, n], n + h);
  // One penalties object per flexibility: its additive and multiplicative fits share each factorisation.
  const ridge = (space: "linear" | "log", penalties: Penalties, label: string): Candidate => ({
    name: `prophet-class ${space === "log" ? "multiplicative" : "additive"} (${label} trend)`,
    space,
    forecast(length, steps) {
      const beta = grams.fit(length, space === "log" ? 1 : 0, penalties);
      const f = grams.predict(beta, length, length + steps);
      if (space === "linear") for (let i = 0; i < f.length; i++) f[i] *= scale;
      return f;
    },
  });
  for (const [flexibility, label] of [
    [0.0005, "flexible"],
    [0.005, "moderate"],
    [0.05, "stiff"],
  ] as const) {
    const penalties = { ...DEFAULT_PENALTIES, changepoint: flexibility };
    candidates.push(ridge("linear", penalties, label), ridge("log", penalties, label));
  }

  if (n >= 14) candidates.push({ name: "seasonal naive (7 days)", space: "linear", forecast: (l, s) => seasonalNaive(values, l, s, 7) });
  if (originLengths[0] >= 364 + Math.min(h, 90)) {
    candidates.push({ name: "seasonal naive (364 days)", space: "linear", forecast: (l, s) => seasonalNaive(values, l, s, 364) });
  }
  candidates.push({ name: "theta", space: "linear", forecast: (l, s) => theta(values, start, l, s, seasonality.weekly) });
  // The statsforecast family (MSTL with AutoETS, AutoETS; model/augurs.ts) is not a candidate here:
  // each adds 100-150 ms to a fit on three years of history (against 5-12 ms for the whole selection),
  // which would cost ForecastDemand an order of magnitude in latency. make eval-forecast reports both
  // beside this model as baselines.
  const zeroShare = values.filter((v) => v === 0).length / n;
  if (zeroShare > 0.3)
    candidates.push({ name: "croston-sba (intermittent)", space: "linear", forecast: (l, s) => crostonSba(values, l, s) });
  return candidates;
}

/**
 * How far each day's demand 52 weeks earlier stood above or below its
 * surrounding week, in log terms: last year's holidays, promotions and other
 * one-off days, known ahead for any horizon under a year (52 weeks keeps the
 * weekday). Only days whose whole window lies in the history get a value, so
 * no backtest sees its own future.
 */
function lastYearDeviation(values: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  const n = values.length;
  for (let t = 364 + 3; t < length; t++) {
    const c = t - 364;
    if (c + 3 >= n) break;
    let around = 0;
    for (let k = -3; k <= 3; k++) around += values[c + k];
    out[t] = Math.log1p(values[c]) - Math.log1p(around / 7);
  }
  return out;
}

function backtestMetrics(
  values: Float64Array,
  originLengths: number[],
  backtestH: number,
  winner: { candidate: Candidate; residuals: Float64Array[]; predictions: Float64Array[] },
  bands: IntervalBands,
  counts: CountDistribution | undefined,
): ForecastMetrics {
  let ape = 0;
  let apeCount = 0;
  let sq = 0;
  let abs = 0;
  let actualSum = 0;
  let inside = 0;
  let count = 0;
  originLengths.forEach((length, j) => {
    const f = winner.predictions[j];
    for (let s = 0; s < backtestH; s++) {
      const actual = values[length + s];
      const predicted = Math.max(0, fromSpace(winner.candidate.space, f[s]));
      const e = actual - predicted;
      if (actual !== 0) {
        ape += Math.abs(e) / Math.abs(actual);
        apeCount++;
      }
      sq += e * e;
      abs += Math.abs(e);
      actualSum += Math.abs(actual);
      const [lower, upper] = interval(winner.candidate.space, f[s], bandAt(bands, s), counts, bands.level);
      if (actual >= lower && actual <= upper) inside++;
      count++;
    }
  });
  // MASE's scale: in-sample MAE of the 7-day seasonal naive forecast over the first training window.
  const trainEnd = originLengths[0];
  let naive = 0;
  let naiveCount = 0;
  for (let t = 7; t < trainEnd; t++) {
    naive += Math.abs(values[t] - values[t - 7]);
    naiveCount++;
  }
  const naiveMae = naiveCount ? naive / naiveCount : NaN;
  return {
    mape: apeCount ? (100 * ape) / apeCount : 0,
    rmse: Math.sqrt(sq / count),
    mase: naiveMae > 0 ? abs / count / naiveMae : 0,
    wape: actualSum > 0 ? (100 * abs) / actualSum : 0,
    intervalCoverage: inside / count,
    backtestOrigins: originLengths.length,
    backtestHorizonDays: backtestH,
  };
}

export function toSpace(space: "linear" | "log", v: number): number {
  return space === "log" ? Math.log1p(Math.max(0, v)) : v;
}

export function fromSpace(space: "linear" | "log", v: number): number {
  return space === "log" ? Math.expm1(v) : v;
}
