import { describe, expect, it } from "vitest";
import { formatDay } from "../../services/forecast/model/calendar.js";
import { forecastDemand } from "../../services/forecast/model/forecast.js";
import { calibrateIntervals, countInterval, fitCountDistribution } from "../../services/forecast/model/intervals.js";
import { Random } from "../../services/numeric/random.js";

function poisson(rng: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

describe("forecast intervals", () => {
  it("takes split-conformal order statistics, not interpolated quantiles", () => {
    // Residuals that are 0 or 1 (counts): order statistics stay on the tied values, where an
    // interpolated 97.5% quantile of a pool with some 1s could land between 0 and 1.
    const bands = calibrateIntervals([Float64Array.from({ length: 400 }, (_, i) => (i % 10 === 0 ? 1 : 0))], 0.95);
    expect(bands.upper[0]).toBe(1);
    expect(bands.lower[0]).toBe(0);
  });

  it("gives count intervals from the Poisson or negative binomial quantiles", () => {
    // Poisson(0.2): P(0) = 0.819, P(<=1) = 0.982 -> [0, 1]; Poisson(4): [0, 8] at 95%.
    expect(countInterval({ meanIntercept: 0, meanScale: 1, overdispersion: 0 }, 0.2, 0.95)).toEqual([0, 1]);
    expect(countInterval({ meanIntercept: 0, meanScale: 1, overdispersion: 0 }, 4, 0.95)).toEqual([1, 8]);
    // Overdispersion widens the upper end.
    expect(countInterval({ meanIntercept: 0, meanScale: 1, overdispersion: 1 }, 4, 0.95)[1]).toBeGreaterThan(8);
    // Moments: Poisson data shows little overdispersion, and the bias ratio is read off the sums.
    const rng = new Random(3);
    const actual = Array.from({ length: 5000 }, () => poisson(rng, 3));
    // A constant forecast of 1.5 explains nothing: the mean is the actuals' mean.
    const fit = fitCountDistribution(actual, new Array(5000).fill(1.5));
    expect(fit.meanIntercept + 1.5 * fit.meanScale).toBeCloseTo(3, 1);
    expect(fit.overdispersion).toBeLessThan(0.05);
  });

  it("covers about 95% of an intermittent series' new days with whole-number intervals", () => {
    const rng = new Random(11);
    const start = Date.parse("2019-01-01T00:00:00Z") / 86_400_000;
    const history = Array.from({ length: 1100 }, (_, t) => {
      const weekly = [0.5, 1.2, 1.1, 1, 1.1, 1.4, 0.7][(start + t + 4) % 7];
      return { date: formatDay(start + t), quantity: poisson(rng, 0.3 * weekly) };
    });
    let inside = 0;
    let days = 0;
    for (const cut of [800, 890, 980]) {
      const f = forecastDemand(history.slice(0, cut), { horizonDays: 90 });
      f.predictions.forEach((p, i) => {
        expect(Number.isInteger(p.lower) && Number.isInteger(p.upper)).toBe(true);
        const actual = history[cut + i]?.quantity;
        if (actual === undefined) return;
        days++;
        if (actual >= p.lower && actual <= p.upper) inside++;
      });
    }
    expect(inside / days).toBeGreaterThan(0.92);
  });
});
