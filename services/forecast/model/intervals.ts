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
  const pools = new SlidingPools(residuals, window);
  for (let s = 0; s < steps; s++) {
    const pool = pools.at(s);
    // Split-conformal order statistics, not interpolated quantiles: the ceil((m+1)(1-alpha))-th
    // smallest of m residuals bounds a new exchangeable residual with probability at least
    // 1-alpha, and on count data (tied residuals) interpolation would cut between ties.
    const m = pool.length;
    let lo = pool[Math.max(0, Math.floor((m + 1) * alpha) - 1)];
    let hi = pool[Math.min(m - 1, Math.ceil((m + 1) * (1 - alpha)) - 1)];
    if (pool.length < 60) {
      // Too few errors to trust their tails: no narrower than a normal band with the same spread.
      const centre = pool.reduce((a, b) => a + b, 0) / m;
      const sd = Math.sqrt(pool.reduce((a, b) => a + (b - centre) ** 2, 0) / Math.max(1, m - 1));
      const half = z * sd * Math.sqrt(1 + 1 / m);
      lo = Math.min(lo, centre - half);
      hi = Math.max(hi, centre + half);
    }
    lower.push(lo);
    upper.push(hi);
  }
  return { level, lower, upper, residuals: residuals.map((r) => Array.from(r)) };
}

/**
 * The residuals of every origin at steps within `window` of a step, sorted,
 * for one step after the other. Moving to the next step takes one step's
 * residuals out and puts one in, each by binary search into the sorted pool,
 * instead of sorting the whole pool again: sorting a fresh pool per step was
 * a tenth of a fit. The pool holds the same numbers in the same order either
 * way. With a NaN among them (which has no place in an order) every step's
 * pool is sorted afresh, as the typed array's sort places it.
 */
class SlidingPools {
  private readonly buffer: Float64Array;
  private size = 0;
  /** Steps [from, to] are in the pool. */
  private from = 0;
  private to = -1;
  private readonly ordered: boolean;

  constructor(
    private readonly residuals: readonly Float64Array[],
    private readonly window: number,
  ) {
    this.buffer = new Float64Array(residuals.length * (2 * window + 1));
    this.ordered = residuals.every((r) => !r.some(Number.isNaN));
  }

  /** The sorted pool of step s; steps must come in increasing order. Valid until the next call. */
  at(s: number): Float64Array {
    const steps = this.residuals[0].length;
    const from = Math.max(0, s - this.window);
    const to = Math.min(steps - 1, s + this.window);
    if (!this.ordered) {
      let m = 0;
      for (const r of this.residuals) for (let k = from; k <= to; k++) this.buffer[m++] = r[k];
      return this.buffer.subarray(0, m).sort();
    }
    // Out before in: the buffer holds one pool, not one and a step.
    while (this.from < from) {
      for (const r of this.residuals) this.remove(r[this.from]);
      this.from++;
    }
    while (this.to < to) {
      this.to++;
      for (const r of this.residuals) this.insert(r[this.to]);
    }
    return this.buffer.subarray(0, this.size);
  }

  private insert(v: number): void {
    // After any equal values, so equal values keep the order they came in (as they would sorted: they are equal).
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buffer[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    this.buffer.copyWithin(lo + 1, lo, this.size);
    this.buffer[lo] = v;
    this.size++;
  }

  private remove(v: number): void {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buffer[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    this.buffer.copyWithin(lo, lo + 1, this.size);
    this.size--;
  }
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
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Low counts (intermittent demand above all) are whole numbers with a
 * predictive distribution that residual quantiles describe poorly: most
 * days are 0, and a 2 on a day forecast at 0.2 sits beyond any band built
 * from 360 backtest days. For such series the model keeps a negative
 * binomial predictive distribution: its mean is a + b * (point forecast),
 * a >= 0 and b >= 0 fitted by least squares on the backtest (a forecast of 0
 * on a day that may sell must not mean "certainly 0"), its dispersion by
 * moments from the same backtest (Poisson when the errors show none), and
 * its intervals are that distribution's central intervals.
 */
export interface CountDistribution {
  /** Predictive mean = meanIntercept + meanScale * point forecast. */
  meanIntercept: number;
  meanScale: number;
  /** 1/k of NB(mean, k): variance = mean + overdispersion * mean^2; 0 is Poisson. */
  overdispersion: number;
}

/** Daily means up to this are low counts: a normal or residual band misstates their tails. */
export const LOW_COUNT_MEAN = 20;

export function fitCountDistribution(actuals: ArrayLike<number>, points: ArrayLike<number>): CountDistribution {
  const n = actuals.length;
  let my = 0;
  let mp = 0;
  for (let i = 0; i < n; i++) {
    my += actuals[i] / n;
    mp += points[i] / n;
  }
  let spy = 0;
  let spp = 0;
  for (let i = 0; i < n; i++) {
    spy += (points[i] - mp) * (actuals[i] - my);
    spp += (points[i] - mp) ** 2;
  }
  let meanScale = spp > 0 ? Math.max(0, spy / spp) : 0;
  let meanIntercept = my - meanScale * mp;
  if (meanIntercept < 0) {
    meanIntercept = 0;
    meanScale = mp > 0 ? my / mp : 0;
  }
  let excess = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const mu = Math.max(1e-9, meanIntercept + meanScale * points[i]);
    excess += (actuals[i] - mu) ** 2 - mu;
    squares += mu * mu;
  }
  return { meanIntercept, meanScale, overdispersion: squares > 0 ? Math.max(0, excess / squares) : 0 };
}

/**
 * The interval of the count distribution at a point forecast: the smallest
 * counts whose CDF reaches (1-level)/2 and (1+level)/2, so at least `level`
 * of the probability lies inside; when the lower end is 0 there is no lower
 * tail to leave out, and the upper end is the smallest count whose CDF
 * reaches `level` (equal tails would cover far more than asked on
 * intermittent demand, where most of the mass sits on 0).
 */
export function countInterval(dist: CountDistribution, point: number, level: number): [number, number] {
  const mu = Math.max(1e-9, dist.meanIntercept + dist.meanScale * point);
  const alpha = (1 - level) / 2;
  const k = dist.overdispersion > 1e-9 ? 1 / dist.overdispersion : Infinity;
  let p = Number.isFinite(k) ? Math.exp(k * Math.log(k / (k + mu))) : Math.exp(-mu);
  let cdf = p;
  let lo = -1;
  for (let x = 0; x < 100_000; x++) {
    if (lo < 0 && cdf >= alpha) lo = x;
    if (cdf >= (lo === 0 ? level : 1 - alpha)) return [lo, x];
    p *= Number.isFinite(k) ? ((x + k) / (x + 1)) * (mu / (k + mu)) : mu / (x + 1);
    cdf += p;
  }
  return [Math.max(0, lo), Infinity];
}
