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
  let best = { alpha: 0.3, sse: Infinity, level: x[0] };
  for (const alpha of [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9]) {
    let level = x[0];
    let sse = 0;
    for (let t = 1; t < length; t++) {
      const e = x[t] - level;
      sse += e * e;
      level += alpha * e;
    }
    if (sse < best.sse) best = { alpha, sse, level };
  }
  const out = new Float64Array(h);
  const correction = (1 - (1 - best.alpha) ** length) / best.alpha;
  for (let s = 0; s < h; s++) {
    out[s] = (best.level + 0.5 * slope * (s + 1 + correction - 1)) * indices[weekday(start + length + s)];
  }
  return out;
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
