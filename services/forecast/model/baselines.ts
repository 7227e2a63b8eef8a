import { weekday } from "./calendar.js";

/**
 * The simple forecasts every fitted model has to beat on the series' own
 * backtest. Each takes the first `length` values and returns `h` days.
 */

/** Repeats the last `period` days (7: last week; 364: the same weekday last year). */
export function seasonalNaive(values: Float64Array, length: number, h: number, period: number): Float64Array {
  const out = new Float64Array(h);
  for (let s = 0; s < h; s++) out[s] = values[length - period + (s % period)];
  return out;
}

/**
 * The Theta method (Assimakopoulos & Nikolopoulos; Hyndman & Billah's form):
 * simple exponential smoothing plus half the linear drift, on weekly
 * seasonally adjusted data when the week matters.
 */
export function theta(values: Float64Array, start: number, length: number, h: number, weekly: boolean): Float64Array {
  const indices = weekly ? weeklyIndices(values, start, length) : new Float64Array(7).fill(1);
  const x = new Float64Array(length);
  for (let t = 0; t < length; t++) x[t] = values[t] / indices[weekday(start + t)];
  // Drift: half the least-squares slope.
  let st = 0;
  let sx = 0;
  let stt = 0;
  let stx = 0;
  for (let t = 0; t < length; t++) {
    st += t;
    sx += x[t];
    stt += t * t;
    stx += t * x[t];
  }
  const slope = (length * stx - st * sx) / (length * stt - st * st || 1);
  // Smoothing constant by one-step-ahead squared error.
  const { levels, sses } = smoothings(x, length);
  let best = { alpha: 0.3, sse: Infinity, level: x[0] };
  ALPHAS.forEach((alpha, i) => {
    if (sses[i] < best.sse) best = { alpha, sse: sses[i], level: levels[i] };
  });
  const out = new Float64Array(h);
  const correction = (1 - (1 - best.alpha) ** length) / best.alpha;
  for (let s = 0; s < h; s++) {
    out[s] = (best.level + 0.5 * slope * (s + 1 + correction - 1)) * indices[weekday(start + length + s)];
  }
  return out;
}

/** The smoothing constants Theta chooses among. */
export const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9] as const;

/**
 * Simple exponential smoothing of x[0, length) with each of ALPHAS: the final
 * level and the sum of squared one-step errors. The eight recurrences run in
 * one pass. Each step of one waits on its own previous step, so run one after
 * another they left the CPU idle between steps; side by side they overlap.
 * Every constant sees the same operations in the same order as alone: the
 * same bits.
 */
// biome-ignore format: the eight recurrences read side by side, one line per step of all eight.
export function smoothings(x: Float64Array, length: number): { levels: Float64Array; sses: Float64Array } {
  const [a0, a1, a2, a3, a4, a5, a6, a7] = ALPHAS;
  let l0 = x[0], l1 = x[0], l2 = x[0], l3 = x[0], l4 = x[0], l5 = x[0], l6 = x[0], l7 = x[0];
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (let t = 1; t < length; t++) {
    const v = x[t];
    const e0 = v - l0, e1 = v - l1, e2 = v - l2, e3 = v - l3, e4 = v - l4, e5 = v - l5, e6 = v - l6, e7 = v - l7;
    s0 += e0 * e0; s1 += e1 * e1; s2 += e2 * e2; s3 += e3 * e3; s4 += e4 * e4; s5 += e5 * e5; s6 += e6 * e6; s7 += e7 * e7;
    l0 += a0 * e0; l1 += a1 * e1; l2 += a2 * e2; l3 += a3 * e3; l4 += a4 * e4; l5 += a5 * e5; l6 += a6 * e6; l7 += a7 * e7;
  }
  return { levels: Float64Array.of(l0, l1, l2, l3, l4, l5, l6, l7), sses: Float64Array.of(s0, s1, s2, s3, s4, s5, s6, s7) };
}

/** Multiplicative day-of-week indices (mean 1) from ratios to a centred 7-day average. */
function weeklyIndices(values: Float64Array, start: number, length: number): Float64Array {
  const sum = new Float64Array(7);
  const count = new Float64Array(7);
  let window = 0;
  for (let i = 0; i < Math.min(7, length); i++) window += values[i];
  for (let t = 3; t < length - 3; t++) {
    if (t > 3) window += values[t + 3] - values[t - 4];
    const avg = window / 7;
    if (avg <= 0) continue;
    const w = weekday(start + t);
    sum[w] += values[t] / avg;
    count[w]++;
  }
  const idx = Float64Array.from(sum, (s, w) => (count[w] ? s / count[w] : 1));
  const m = idx.reduce((a, b) => a + b, 0) / 7;
  return idx.map((v) => (m > 0 && v > 0 ? v / m : 1));
}

/**
 * Croston's method with the Syntetos-Boylan correction, for intermittent
 * demand: smooths the size of non-zero demands and the gaps between them and
 * forecasts their ratio, a flat rate that never goes negative.
 */
export function crostonSba(values: Float64Array, length: number, h: number, alpha = 0.1): Float64Array {
  let size = NaN;
  let interval = NaN;
  let gap = 1;
  for (let t = 0; t < length; t++) {
    if (values[t] > 0) {
      if (Number.isNaN(size)) {
        size = values[t];
        interval = gap;
      } else {
        size += alpha * (values[t] - size);
        interval += alpha * (gap - interval);
      }
      gap = 1;
    } else {
      gap++;
    }
  }
  const rate = Number.isNaN(size) ? 0 : (1 - alpha / 2) * (size / interval);
  return new Float64Array(h).fill(rate);
}
