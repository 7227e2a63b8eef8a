import { quantile } from "./statistics.js";

/**
 * Prediction intervals from the model's own backtest errors: for each horizon
 * step, the empirical quantiles of the residuals at nearby steps across all
 * origins. Beyond the backtest horizon the last band widens like a random
 * walk (with the square root of the step). Plain data, so it crosses worker
 * threads and caches unchanged.
 */
export interface IntervalBands {
  level: number;
  lower: number[];
  upper: number[];
  /** Backtest residuals by origin and step, in the model's space. */
  residuals: number[][];
}

export function calibrateIntervals(residuals: readonly Float64Array[], level: number): IntervalBands {
  const steps = residuals[0]?.length ?? 0;
  const window = Math.max(3, Math.floor(steps / 6));
  const lower: number[] = [];
  const upper: number[] = [];
  const alpha = (1 - level) / 2;
  const z = normalQuantile(1 - alpha);
  for (let s = 0; s < steps; s++) {
    const pool: number[] = [];
    for (const r of residuals) for (let k = Math.max(0, s - window); k <= Math.min(steps - 1, s + window); k++) pool.push(r[k]);
    pool.sort((a, b) => a - b);
    let lo = quantile(pool, alpha);
    let hi = quantile(pool, 1 - alpha);
    if (pool.length < 60) {
      // Too few errors to trust their tails: no narrower than a normal band with the same spread.
      const m = pool.reduce((a, b) => a + b, 0) / pool.length;
      const sd = Math.sqrt(pool.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, pool.length - 1));
      const half = z * sd * Math.sqrt(1 + 1 / pool.length);
      lo = Math.min(lo, m - half);
      hi = Math.max(hi, m + half);
    }
    lower.push(lo);
    upper.push(hi);
  }
  return { level, lower, upper, residuals: residuals.map((r) => Array.from(r)) };
}

/** The band at a horizon step (0-based). */
export function bandAt(bands: IntervalBands, step: number): [number, number] {
  const last = bands.lower.length - 1;
  if (last < 0) return [0, 0];
  if (step <= last) return [bands.lower[step], bands.upper[step]];
  const widen = Math.sqrt((step + 1) / (last + 1));
  return [bands.lower[last] * widen, bands.upper[last] * widen];
}

/** Inverse of the standard normal CDF (Acklam's rational approximation). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - plow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
