import { describe, expect, it } from "vitest";
import type { ForecastResult } from "../../services/forecast/model/forecast.js";
import { leadTimeDemand, probabilityOfExceeding, reorderPoint } from "../../services/forecast/model/lead-time.js";

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
    const wide = leadTimeDemand(forecastWith(10, [0.5, 1.5]), 14);
    expect(wide.samples[0]).toBeLessThan(140);
    expect(wide.samples[wide.samples.length - 1]).toBeGreaterThan(140);
    expect(wide.mean).toBeCloseTo(140, 6);
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
