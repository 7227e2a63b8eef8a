import { describe, expect, it } from "vitest";
import { formatDay } from "../../services/forecast/model/calendar.js";
import { forecastDemand } from "../../services/forecast/model/forecast.js";
import { usHolidays } from "../../services/forecast/model/holidays.js";
import { detectSeasonality } from "../../services/forecast/model/seasonality.js";
import { predictStockout } from "../../services/forecast/model/stockout.js";

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(r: () => number) {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/** Known components: level, trend, weekly and yearly shape, noise. */
function synthetic(
  days: number,
  opts: { weekly?: number; yearly?: number; noise?: number; trend?: number; seed?: number; start?: string },
) {
  const r = rng(opts.seed ?? 1);
  const start = Date.parse(`${opts.start ?? "2020-01-01"}T00:00:00Z`) / 86_400_000;
  const weekShape = [0.7, 1.1, 1.05, 1.0, 1.1, 1.2, 0.85];
  return Array.from({ length: days }, (_, t) => {
    const day = start + t;
    const w = opts.weekly ? 1 + opts.weekly * (weekShape[(day + 4) % 7] - 1) : 1;
    const y = 1 + (opts.yearly ?? 0) * Math.sin((2 * Math.PI * t) / 365.25);
    const mean = (100 + (opts.trend ?? 0) * t) * w * y;
    return { date: formatDay(day), quantity: Math.max(0, mean + (opts.noise ?? 3) * gaussian(r)) };
  });
}

function mape(actual: number[], predicted: number[]) {
  return (100 * actual.reduce((a, v, i) => a + Math.abs(v - predicted[i]) / v, 0)) / actual.length;
}

describe("forecast model", () => {
  it("recovers trend, weekly and yearly structure far better than a flat guess", () => {
    const series = synthetic(3 * 365 + 90, { weekly: 1, yearly: 0.2, trend: 0.02, noise: 2, seed: 3 });
    const train = series.slice(0, -90);
    const test = series.slice(-90).map((p) => p.quantity);
    const f = forecastDemand(train, { horizonDays: 90 });
    expect(f.predictions).toHaveLength(90);
    expect(f.predictions[0].date).toBe(series[series.length - 90].date);
    const ours = mape(
      test,
      f.predictions.map((p) => p.value),
    );
    const lastMean = train.slice(-28).reduce((a, p) => a + p.quantity, 0) / 28;
    expect(ours).toBeLessThan(4);
    expect(ours).toBeLessThan(
      mape(
        test,
        test.map(() => lastMean),
      ) / 3,
    );
    expect(f.seasonality.periodsDays).toEqual([7, 365]);
    expect(f.trainingSamples).toBe(train.length);
  });

  it("detects weekly seasonality when present and not when absent", () => {
    const weekly = synthetic(200, { weekly: 1, noise: 3, seed: 5 });
    const flat = synthetic(200, { weekly: 0, noise: 3, seed: 5 });
    const toArr = (s: { quantity: number }[]) => Float64Array.from(s, (p) => p.quantity);
    const start = Date.parse("2020-01-01T00:00:00Z") / 86_400_000;
    expect(detectSeasonality(toArr(weekly), start).weekly).toBe(true);
    expect(detectSeasonality(toArr(flat), start).weekly).toBe(false);
    expect(detectSeasonality(toArr(flat), start).yearly).toBe(false);
    const yearly = synthetic(3 * 365, { yearly: 0.3, noise: 3, seed: 9 });
    const noYear = synthetic(3 * 365, { yearly: 0, noise: 3, seed: 9 });
    expect(detectSeasonality(toArr(yearly), start).yearly).toBe(true);
    expect(detectSeasonality(toArr(noYear), start).yearly).toBe(false);
  });

  it("calibrates 95% intervals to cover about 95% of new days", () => {
    let inside = 0;
    let total = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const series = synthetic(2 * 365 + 60, { weekly: 0.5, noise: 8, seed });
      const f = forecastDemand(series.slice(0, -60), { horizonDays: 60 });
      series.slice(-60).forEach((p, i) => {
        total++;
        if (p.quantity >= f.predictions[i].lower && p.quantity <= f.predictions[i].upper) inside++;
      });
      expect(f.intervalLevel).toBe(0.95);
    }
    expect(inside / total).toBeGreaterThan(0.88);
    expect(inside / total).toBeLessThan(0.995);
  });

  it("gives intermittent demand no negative forecasts and sensible intervals", () => {
    const r = rng(11);
    const series = Array.from({ length: 200 }, (_, t) => ({
      date: formatDay(18262 + t),
      quantity: r() < 0.8 ? 0 : Math.round(1 + r() * 6),
    }));
    const f = forecastDemand(series, { horizonDays: 30 });
    for (const p of f.predictions) {
      expect(p.value).toBeGreaterThanOrEqual(0);
      expect(p.lower).toBeGreaterThanOrEqual(0);
      expect(p.upper).toBeGreaterThanOrEqual(p.value);
      expect(p.upper).toBeLessThan(20);
    }
    const mean = series.reduce((a, p) => a + p.quantity, 0) / series.length;
    const forecastMean = f.predictions.reduce((a, p) => a + p.value, 0) / 30;
    expect(forecastMean).toBeGreaterThan(mean * 0.3);
    expect(forecastMean).toBeLessThan(mean * 2);
    expect(f.metrics.wape).toBeGreaterThan(0);
  });

  it("sums duplicate days and treats missing days as zero demand", () => {
    const base = synthetic(60, { noise: 0, seed: 1 });
    const withDupes = [...base, { date: base[10].date, quantity: 5 }].reverse();
    const f = forecastDemand(withDupes, { horizonDays: 7 });
    expect(f.trainingSamples).toBe(60);
    const gappy = base.filter((_, i) => i % 2 === 0);
    expect(forecastDemand(gappy, { horizonDays: 7 }).trainingSamples).toBe(30);
  });

  it("keeps the predecessor's error messages", () => {
    const short = synthetic(15, {});
    expect(() => forecastDemand(short, { horizonDays: 30 })).toThrow("Insufficient transaction data. Need at least 30 days, got 15");
    const ok = synthetic(40, {});
    expect(() => forecastDemand(ok, { horizonDays: 0 })).toThrow("horizon_days must be between 1 and 365");
    expect(() => forecastDemand(ok, { horizonDays: 366 })).toThrow("horizon_days must be between 1 and 365");
    expect(() => forecastDemand([...ok, { date: "2021-02-30", quantity: 1 }], { horizonDays: 5 })).toThrow(/calendar date/);
    expect(() => forecastDemand([...ok, { date: "2021-02-03", quantity: -1 }], { horizonDays: 5 })).toThrow(/>= 0/);
  });

  it("learns holiday effects when given the calendar", () => {
    // Demand halves on US holidays; with the calendar, the model predicts the dip.
    const holidays = usHolidays(2019, 2024);
    const holidayDays = new Set(holidays.flatMap((h) => h.days));
    const series = synthetic(3 * 365, { weekly: 0.3, noise: 2, seed: 4 }).map((p) => ({
      ...p,
      quantity: holidayDays.has(Date.parse(`${p.date}T00:00:00Z`) / 86_400_000) ? p.quantity * 0.5 : p.quantity,
    }));
    const train = series.filter((p) => p.date < "2022-11-01");
    const f = forecastDemand(train, { horizonDays: 60, holidays });
    const christmas = f.predictions.find((p) => p.date === "2022-12-25")!;
    const before = f.predictions.find((p) => p.date === "2022-12-18")!; // same weekday, a week earlier
    expect(christmas.value).toBeLessThan(before.value * 0.75);
  });
});

describe("stockout", () => {
  const history = synthetic(400, { weekly: 0.5, noise: 5, seed: 21 });

  it("is deterministic and moves later with more stock", () => {
    const a = predictStockout(history, { currentStockUnits: 1500, horizonDays: 60 });
    const b = predictStockout(history, { currentStockUnits: 1500, horizonDays: 60 });
    expect(a.stockoutDate).toBe(b.stockoutDate);
    expect(a.confidence).toBe(b.confidence);
    // About 100 units a day: 1,500 units last about 15 days.
    expect(a.daysUntilStockout).toBeGreaterThanOrEqual(12);
    expect(a.daysUntilStockout).toBeLessThanOrEqual(18);
    expect(a.confidence).toBeGreaterThan(0.3);
    expect(a.confidence).toBeLessThanOrEqual(1);
    const more = predictStockout(history, { currentStockUnits: 3000, horizonDays: 60 });
    expect(more.daysUntilStockout!).toBeGreaterThan(a.daysUntilStockout!);
    expect(a.dailyUsageForecast).toHaveLength(60);
  });

  it("answers 'no stockout' within the horizon without an error", () => {
    const none = predictStockout(history, { currentStockUnits: 1_000_000, horizonDays: 30 });
    expect(none.stockoutDate).toBeNull();
    expect(none.daysUntilStockout).toBeNull();
    expect(none.confidence).toBe(0);
    const empty = predictStockout(history, { currentStockUnits: 0, horizonDays: 30 });
    expect(empty.daysUntilStockout).toBe(1);
    expect(empty.confidence).toBe(1);
  });
});
