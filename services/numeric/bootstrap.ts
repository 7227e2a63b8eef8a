import { Random } from "./random.js";

/** A statistic and its bootstrap interval. */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Bootstrap interval of a statistic over `units` independent units (pairs,
 * travellers): each resample draws the units with replacement and hands the
 * statistic how many times each was drawn. A paired comparison of two models
 * computes both on the same weights, so the interval is the difference's, not
 * two intervals set side by side. Percentile interval, fixed seed, so a gate
 * reproduces exactly.
 */
export function bootstrapInterval(
  units: number,
  statistic: (weights: Float64Array) => number,
  options: { resamples?: number; seed?: number; level?: number } = {},
): Interval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const r = new Random(options.seed ?? 1);
  const weights = new Float64Array(units);
  const estimate = statistic(weights.fill(1));
  const draws = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    weights.fill(0);
    for (let n = 0; n < units; n++) weights[Math.floor(r.next() * units)]++;
    draws[b] = statistic(weights);
  }
  draws.sort();
  const at = (q: number) => draws[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { estimate, lower: at((1 - level) / 2), upper: at(1 - (1 - level) / 2) };
}

/** Σ w·x / Σ w. */
export function weightedMean(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    s += weights[i] * values[i];
    w += weights[i];
  }
  return w > 0 ? s / w : 0;
}
