import { describe, expect, it } from "vitest";
import { dayNumber, formatDay } from "../../services/forecast/model/calendar.js";
import { ALPHAS, smoothings } from "../../services/forecast/model/baselines.js";
import { toDailySeries } from "../../services/forecast/model/daily-series.js";
import { columnKinds, fillRow, holidayIndex, type DesignSpec } from "../../services/forecast/model/design.js";
import { calibrateIntervals } from "../../services/forecast/model/intervals.js";
import { DEFAULT_PENALTIES, PrefixGrams } from "../../services/forecast/model/ridge.js";
import { packHistory, unpackHistory } from "../../services/forecast/packed-history.js";
import { accumulate, dot, solveRidge, symmetrize } from "../../services/numeric/linear-algebra.js";
import { Random } from "../../services/numeric/random.js";

/**
 * The forecast's fast paths against the plain computations they replace:
 * each must give the same numbers to the last bit, so a forecast (and make
 * eval-forecast) cannot tell them apart.
 */

const START = dayNumber("2022-01-03");

function spec(n: number, h: number, rng: Random): DesignSpec {
  const changepoints = Array.from({ length: 12 }, (_, i) => Math.floor(((i + 1) * n * 0.95) / 13));
  const regressor = Float64Array.from({ length: n + h }, (_, t) => (t > 370 ? rng.gaussian() * 0.1 : 0));
  return {
    start: START,
    scale: n,
    changepoints,
    weekly: true,
    yearlyOrder: 4,
    holidays: [
      { name: "a", days: [START + 20, START + 385, START + 750] },
      { name: "b", days: Array.from({ length: 40 }, (_, i) => START + 13 * i) },
    ],
    regressors: [regressor],
  };
}

/** Row by row, as PrefixGrams accumulated before it summed by column. */
function reference(s: DesignSpec, targets: Float64Array[], length: number, target: number, h: number) {
  const p = columnKinds(s).length;
  const holidays = holidayIndex(s);
  const gram = new Float64Array(p * p);
  const rhs = targets.map(() => new Float64Array(p));
  const row = new Float64Array(p);
  for (let t = 0; t < length; t++) {
    fillRow(s, holidays, t, row);
    accumulate(gram, rhs[0], row, targets[0][t]);
    for (let k = 1; k < targets.length; k++) for (let i = 0; i < p; i++) rhs[k][i] += row[i] * targets[k][t];
  }
  const kinds = columnKinds(s);
  const penalty = Float64Array.from(kinds, (k) => DEFAULT_PENALTIES[k] * length + (k === "level" ? 0 : 1e-9));
  const beta = solveRidge(symmetrize(gram, p), rhs[target], penalty);
  return Array.from({ length: h }, (_, i) => {
    fillRow(s, holidays, length + i, row);
    return dot(row, beta);
  });
}

describe("forecast fast paths", () => {
  it("sums the normal equations by column to the same bits as row by row, at every prefix and beyond the history", () => {
    const rng = new Random(4);
    const n = 800;
    const h = 60;
    const s = spec(n, h, rng);
    const y = Float64Array.from({ length: n }, (_, t) => 10 + Math.sin(t / 9) + rng.gaussian());
    const logs = y.map((v) => Math.log1p(Math.max(0, v)));
    const lengths = [500, 620, 740, n];
    const grams = new PrefixGrams(s, [y, logs], lengths, n + h);
    // A second instance holding no rows past the history predicts them row by row instead.
    const short = new PrefixGrams(s, [y, logs], lengths);
    for (const length of lengths) {
      for (const target of [0, 1]) {
        const want = reference(s, [y, logs], length, target, h);
        expect(Array.from(grams.predict(grams.fit(length, target, DEFAULT_PENALTIES), length, length + h))).toEqual(want);
        expect(Array.from(short.predict(short.fit(length, target, DEFAULT_PENALTIES), length, length + h))).toEqual(want);
      }
    }
  });

  it("sums row by row when a target is not finite, and still answers", () => {
    const rng = new Random(5);
    const n = 400;
    const s = spec(n, 10, rng);
    const y = Float64Array.from({ length: n }, (_, t) => (t === 50 ? Number.POSITIVE_INFINITY : 5 + rng.gaussian()));
    const grams = new PrefixGrams(s, [y], [300, n], n + 10);
    const want = reference(s, [y], 300, 0, 10);
    expect(Array.from(grams.predict(grams.fit(300, 0, DEFAULT_PENALTIES), 300, 310))).toEqual(want);
  });

  it("slides the interval pools to the same bands as sorting each step's pool", () => {
    const rng = new Random(6);
    for (const steps of [7, 30, 90]) {
      // Ties (rounded counts) and several origins, as a backtest gives them.
      const residuals = Array.from({ length: 4 }, () => Float64Array.from({ length: steps }, () => Math.round(rng.gaussian() * 3)));
      const bands = calibrateIntervals(residuals, 0.9);
      const window = Math.max(3, Math.floor(steps / 6));
      for (let s = 0; s < steps; s++) {
        const pool: number[] = [];
        for (const r of residuals) for (let k = Math.max(0, s - window); k <= Math.min(steps - 1, s + window); k++) pool.push(r[k]);
        const sorted = Float64Array.from(pool).sort();
        const m = sorted.length;
        expect(bands.lower[s]).toBeLessThanOrEqual(sorted[Math.max(0, Math.floor((m + 1) * 0.05) - 1)]);
        expect(bands.upper[s]).toBeGreaterThanOrEqual(sorted[Math.min(m - 1, Math.ceil((m + 1) * 0.95) - 1)]);
        if (m >= 60) {
          expect(bands.lower[s]).toBe(sorted[Math.max(0, Math.floor((m + 1) * 0.05) - 1)]);
          expect(bands.upper[s]).toBe(sorted[Math.min(m - 1, Math.ceil((m + 1) * 0.95) - 1)]);
        }
      }
    }
  });

  it("carries a history across threads packed and gives back exactly what was packed", () => {
    const history = [
      { date: "2024-01-01", quantity: 3.25 },
      { date: "", quantity: 0 },
      { date: "2024-02-30", quantity: Number.NaN },
      { date: "naïve 🎉 \u{d800}", quantity: 1e300 },
      { date: "2024-01-01", quantity: -0 },
    ];
    const back = unpackHistory(structuredClone(packHistory(history)));
    expect(back).toEqual(history);
    expect(Object.is(back[4].quantity, -0)).toBe(true);
    expect(unpackHistory(packHistory([]))).toEqual([]);
  });

  it("builds the daily series as the Map of days did: sums duplicates in order, fills gaps, counts days, names the bad record", () => {
    const rng = new Random(7);
    const history = Array.from({ length: 200 }, () => {
      const day = START + Math.floor(rng.next() * 120);
      return { date: new Date(day * 86_400_000).toISOString().slice(0, 10), quantity: Math.round(rng.next() * 1000) / 7 };
    });
    const byDay = new Map<number, number>();
    for (const r of history) byDay.set(dayNumber(r.date), (byDay.get(dayNumber(r.date)) ?? 0) + r.quantity);
    const first = Math.min(...byDay.keys());
    const series = toDailySeries(history);
    expect(series.start).toBe(first);
    expect(series.recordedDays).toBe(byDay.size);
    expect(series.values.length).toBe(Math.max(...byDay.keys()) - first + 1);
    for (const [day, q] of byDay) expect(series.values[day - first]).toBe(q);
    expect(() => toDailySeries([...history, { date: "2024-13-01", quantity: 1 }])).toThrow("transaction_data[200].date");
    expect(() => toDailySeries([...history.slice(0, 3), { date: "2024-01-05", quantity: -1 }])).toThrow("transaction_data[3].quantity");
    expect(() => toDailySeries(history.slice(0, 5))).toThrow("Need at least 30 days, got 5");
  });
});

describe("calendar arithmetic", () => {
  it("reads every date of years 0000 to 9999 as Date.UTC does, and refuses the days that do not exist", () => {
    for (let year = 0; year <= 9999; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 28; day <= 31; day++) {
          const text = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
          const viaDate = new Date(Date.UTC(year < 100 ? year + 1900 : year, month - 1, day));
          // Date.UTC rolls 02-30 over into March; such a day does not exist.
          const exists = viaDate.getUTCDate() === day;
          const got = dayNumber(text);
          if (exists ? got !== Date.UTC(year, month - 1, day) / 86_400_000 : !Number.isNaN(got)) {
            expect({ text, got }).toEqual({ text, got: exists ? Date.UTC(year, month - 1, day) / 86_400_000 : NaN });
          }
        }
        const first = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-01`;
        if (dayNumber(first) !== Date.UTC(year, month - 1, 1) / 86_400_000)
          expect(dayNumber(first)).toBe(Date.UTC(year, month - 1, 1) / 86_400_000);
      }
    }
  });

  it("writes every day from before year 0000 to after 9999 as toISOString does", () => {
    const iso = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);
    for (let day = -719_528 - 400; day <= 2_932_896 + 400; day++) {
      const got = formatDay(day);
      if (got !== iso(day)) expect({ day, got }).toEqual({ day, got: iso(day) });
    }
    for (const day of [-1e6, 3e6, 0.5, -0.5, 19_000.25]) expect(formatDay(day)).toBe(iso(day));
  });

  it("counts a history's recorded days alike in order, out of order and with repeats", () => {
    const rng = new Random(11);
    const history = Array.from({ length: 400 }, (_, i) => ({ date: formatDay(START + i), quantity: rng.int(0, 9) }));
    const shuffled = [...history].sort(() => rng.next() - 0.5);
    const repeated = [...history, ...history.slice(0, 50)];
    expect(toDailySeries(history).recordedDays).toBe(400);
    expect(toDailySeries(shuffled).recordedDays).toBe(400);
    expect(toDailySeries(repeated).recordedDays).toBe(400);
    expect(toDailySeries(shuffled).values).toEqual(toDailySeries(history).values);
  });
});

describe("Theta's smoothing", () => {
  it("smooths with every constant to the same bits in one pass as one constant after another", () => {
    const rng = new Random(21);
    for (let trial = 0; trial < 40; trial++) {
      const n = rng.int(2, 1200);
      const level = rng.next() * 50;
      const x = Float64Array.from({ length: n }, (_, t) => Math.max(0, level + rng.gaussian() * (1 + trial) + (trial % 3) * t * 0.01));
      const length = rng.int(1, n);
      const { levels, sses } = smoothings(x, length);
      ALPHAS.forEach((alpha, i) => {
        let level = x[0];
        let sse = 0;
        for (let t = 1; t < length; t++) {
          const e = x[t] - level;
          sse += e * e;
          level += alpha * e;
        }
        expect([levels[i], sses[i]]).toEqual([level, sse]);
      });
    }
  });
});
