import { describe, expect, it } from "vitest";
import type { ForecastResult } from "../../services/forecast/model/forecast.js";
import {
  crossOriginDraws,
  leadTimeDemand,
  probabilityOfExceeding,
  quantileOf,
  rankOf,
  recalibratedDraws,
  reorderPoint,
  windowScores,
} from "../../services/forecast/model/lead-time.js";

/** A forecast of `point` a day whose backtest origins came out at the given multiples of their forecasts. */
function forecastWith(point: number, multiples: number[], steps = 30, horizon = 60): ForecastResult {
  return {
    predictions: Array.from({ length: horizon }, (_, s) => ({ date: `d${s}`, value: point, lower: 0, upper: 0 })),
    backtest: {
      actual: multiples.map((m) => new Array(steps).fill(point * m)),
      predicted: multiples.map(() => new Array(steps).fill(point)),
    },
  } as unknown as ForecastResult;
}

/** Like forecastWith, but each origin's days swing around its multiple, so windows of one origin differ. */
function wavyForecast(point: number, multiples: number[], steps = 30, horizon = 60): ForecastResult {
  return {
    predictions: Array.from({ length: horizon }, (_, s) => ({ date: `d${s}`, value: point, lower: 0, upper: 0 })),
    backtest: {
      actual: multiples.map((m) => Array.from({ length: steps }, (_, s) => point * m * (1 + 0.2 * Math.sin(s * 1.3)))),
      predicted: multiples.map(() => new Array(steps).fill(point)),
    },
  } as unknown as ForecastResult;
}

describe("lead-time demand", () => {
  it("scales the forecast's sum by the backtest's actual-to-forecast ratios over windows of that length", () => {
    const f = forecastWith(10, [1, 1]);
    const d = leadTimeDemand(f, 7);
    expect(d.forecast).toBe(70);
    expect(d.samples.every((v) => Math.abs(v - 70) < 1e-9)).toBe(true);
    const wide = leadTimeDemand(forecastWith(10, [0.5, 1.5]), 14, { calibrated: false });
    expect(wide.samples[0]).toBeLessThan(140);
    expect(wide.samples[wide.samples.length - 1]).toBeGreaterThan(140);
    expect(wide.mean).toBeCloseTo(140, 6);
  });

  it("scores windows by the log ratio of actual to forecast demand, each side plus the pseudo-demand", () => {
    const scores = windowScores([[2, 0, 4]], [[1, 1, 1]], 2, 1);
    expect(scores).toHaveLength(1);
    expect(scores[0]).toHaveLength(2);
    expect(scores[0][0]).toBeCloseTo(Math.log((2 + 0 + 2) / (1 + 1 + 2)), 12);
    expect(scores[0][1]).toBeCloseTo(Math.log((0 + 4 + 2) / (1 + 1 + 2)), 12);
    // An all-zero series (pseudo-demand 0) scores 0, not NaN.
    expect(windowScores([[0, 0]], [[0, 0]], 1, 0)[0]).toEqual([0, 0]);
  });

  it("calibrates across origins: standardised by the other origins, widened for an unknown mean", () => {
    // Four origins with the same spread around different levels.
    const scores = [
      [-0.1, 0, 0.1],
      [-0.05, 0.05, 0.15],
      [0.1, 0.2, 0.3],
      [-0.3, -0.2, -0.1],
    ];
    const all = scores.flat();
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
    const draws = crossOriginDraws(scores);
    expect(draws).toHaveLength(all.length);
    // The third origin's first score, standardised by the other three origins' scores.
    const others = [...scores[0], ...scores[1], ...scores[3]];
    const om = others.reduce((a, b) => a + b, 0) / others.length;
    const osd = Math.sqrt(others.reduce((a, b) => a + (b - om) ** 2, 0) / (others.length - 1));
    expect(draws[6]).toBeCloseTo(mean + Math.sqrt(1 + 1 / 4) * sd * ((0.1 - om) / osd), 12);
    // Wider than the scores themselves: origins unlike the rest were missed by more than the pooled spread says.
    const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(range(draws)).toBeGreaterThan(range(all));
    // One origin: nothing to leave out.
    expect(crossOriginDraws([[0.1, 0.2]])).toEqual([0.1, 0.2]);
    // Identical origins but one: finite draws, widest for the odd one.
    const odd = crossOriginDraws([
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 1],
    ]);
    expect(odd.every(Number.isFinite)).toBe(true);
    expect(Math.max(...odd)).toBe(odd[6]);
  });

  it("raises the reorder point when one backtest origin was missed by far more than the others", () => {
    const calm = forecastWith(10, [1, 1.02, 0.98, 1.01, 0.99]);
    const missed = forecastWith(10, [1, 1.02, 0.98, 1.01, 1.4]);
    const raw = reorderPoint(missed, 14, 0.95, { calibrated: false }).reorderPoint;
    const calibrated = reorderPoint(missed, 14, 0.95).reorderPoint;
    expect(calibrated).toBeGreaterThan(raw);
    expect(calibrated).toBeGreaterThan(reorderPoint(calm, 14, 0.95).reorderPoint);
    // The stockout probability at the calibrated reorder point is read from the same draws.
    expect(probabilityOfExceeding(leadTimeDemand(missed, 14), calibrated)).toBeLessThanOrEqual(0.05);
  });

  it("ranks and quantiles are inverses: linear between draws, ties at their middle rank, 0 and 1 beyond the ends", () => {
    const xs = [1, 2, 2, 4];
    expect(rankOf(xs, 0)).toBe(0);
    expect(rankOf(xs, 5)).toBe(1);
    // Two draws equal to 2 hold ranks 1/4 to 3/4.
    expect(rankOf(xs, 2)).toBeCloseTo(0.5, 12);
    // Halfway between the draws at 2 (the second at 2.5/4) and 4 (at 3.5/4).
    expect(rankOf(xs, 3)).toBeCloseTo(3 / 4, 12);
    for (const x of [1.2, 1.7, 2.6, 3.9]) expect(quantileOf(xs, rankOf(xs, x))).toBeCloseTo(x, 12);
    expect(quantileOf(xs, 0)).toBe(1);
    expect(quantileOf(xs, 1)).toBe(4);
  });

  it("recalibrates on the series' own origins: each ranked among the others' draws, the draws read at those ranks", () => {
    const windows = (centre: number) => Array.from({ length: 11 }, (_, i) => centre + (i - 5) * 0.01);
    const quantile = (xs: number[], p: number) => xs[Math.floor(p * (xs.length - 1))];
    // Origins that differ in level but each falls inside what the others predict: the ranks bunch, the draws narrow.
    const similar = [windows(0), windows(0.02), windows(-0.02), windows(0.01)];
    const cross = crossOriginDraws(similar).sort((a, b) => a - b);
    const recal = recalibratedDraws(similar);
    expect(recal).toHaveLength(cross.length);
    expect(recal.every((x, i) => i === 0 || x >= recal[i - 1])).toBe(true);
    expect(quantile(recal, 0.95) - quantile(recal, 0.05)).toBeLessThan(quantile(cross, 0.95) - quantile(cross, 0.05));
    // One origin far below the rest: the lower tail reaches past it, the upper one does not widen with it.
    const lowMiss = [windows(0), windows(0.01), windows(-0.01), windows(-0.3)];
    const crossLow = crossOriginDraws(lowMiss).sort((a, b) => a - b);
    const recalLow = recalibratedDraws(lowMiss);
    expect(recalLow[0]).toBeLessThan(crossLow[0]);
    expect(recalLow[recalLow.length - 1]).toBeLessThan(crossLow[crossLow.length - 1]);
    // One origin: nothing to rank against.
    expect(recalibratedDraws([[0.2, 0.1]])).toEqual([0.1, 0.2]);
  });

  it("widens only the side an origin was missed on, for stockouts and reorder points alike", () => {
    const calm = wavyForecast(10, [1, 1.02, 0.98, 1.01]);
    const low = wavyForecast(10, [1, 1.02, 0.98, 0.6]);
    const high = wavyForecast(10, [1, 1.02, 0.98, 1.4]);
    const q20 = (f: ForecastResult) => {
      const s = leadTimeDemand(f, 7).samples;
      return s[Math.floor(0.2 * s.length)];
    };
    // Demand far below forecast once does not raise the reorder point (a symmetric widening would)...
    expect(reorderPoint(low, 7, 0.95).reorderPoint).toBeLessThanOrEqual(reorderPoint(calm, 7, 0.95).reorderPoint);
    // ...and demand far above it once raises the reorder point without lowering the stock levels likely to run out.
    expect(reorderPoint(high, 7, 0.95).reorderPoint).toBeGreaterThan(reorderPoint(calm, 7, 0.95).reorderPoint);
    expect(q20(high)).toBeGreaterThanOrEqual(q20(calm));
  });

  it("puts the chance of running out and the reorder point on the same distribution", () => {
    const f = forecastWith(10, [0.8, 0.9, 1, 1.1, 1.2]);
    const d = leadTimeDemand(f, 10);
    expect(probabilityOfExceeding(d, 0)).toBe(1);
    expect(probabilityOfExceeding(d, 1e9)).toBe(0);
    const rop = reorderPoint(f, 10, 0.95);
    expect(rop.reorderPoint).toBeGreaterThanOrEqual(rop.expectedLeadTimeDemand);
    expect(rop.safetyStock).toBeCloseTo(rop.reorderPoint - rop.expectedLeadTimeDemand, 9);
    // At the reorder point, demand above it has at most 5% of the probability.
    expect(probabilityOfExceeding(d, rop.reorderPoint)).toBeLessThanOrEqual(0.05);
    expect(reorderPoint(f, 10, 0.5).reorderPoint).toBeLessThan(rop.reorderPoint);
  });

  it("refuses lead times beyond the horizon and service levels outside (0, 1)", () => {
    const f = forecastWith(1, [1]);
    expect(() => leadTimeDemand(f, 0)).toThrow(/lead_time_days/);
    expect(() => leadTimeDemand(f, 61)).toThrow(/lead_time_days/);
    expect(() => reorderPoint(f, 7, 1)).toThrow(/service_level/);
  });
});
