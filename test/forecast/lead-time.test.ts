import { describe, expect, it } from "vitest";
import type { ForecastResult } from "../../services/forecast/model/forecast.js";
import {
  crossOriginDraws,
  leadTimeDemand,
  probabilityOfExceeding,
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
