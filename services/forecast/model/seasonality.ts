import { weekday, yearPhase } from "./calendar.js";
import { accumulate, dot, solveRidge, symmetrize } from "../../numeric/linear-algebra.js";
import { fTail } from "./statistics.js";

export interface SeasonalityFound {
  weekly: boolean;
  yearly: boolean;
  periodsDays: number[];
  /** p-values of the tests, for the curious. */
  weeklyP: number;
  yearlyP: number;
}

const ALPHA = 0.001;

/**
 * Tests, rather than assumes, which seasonal periods a series has. Weekly: a
 * one-way ANOVA of the day-of-week groups after removing a centred 7-day moving
 * average. Yearly (two years of history at least): a partial F-test of annual
 * Fourier terms over a linear trend, on weekly totals so the weekly pattern
 * cannot leak into it. Both also need a non-trivial effect size, since with
 * thousands of days any effect is "significant".
 */
export function detectSeasonality(values: Float64Array, start: number): SeasonalityFound {
  const weeklyP = weeklyTest(values, start);
  const yearlyP = values.length >= 730 ? yearlyTest(values, start) : 1;
  const weekly = weeklyP < ALPHA;
  const yearly = yearlyP < ALPHA;
  return { weekly, yearly, periodsDays: [...(weekly ? [7] : []), ...(yearly ? [365] : [])], weeklyP, yearlyP };
}

function weeklyTest(values: Float64Array, start: number): number {
  const n = values.length;
  if (n < 21) return 1;
  const groups = Array.from({ length: 7 }, () => ({ sum: 0, sumSq: 0, count: 0 }));
  let window = 0;
  for (let i = 0; i < 7; i++) window += values[i];
  for (let t = 3; t < n - 3; t++) {
    if (t > 3) window += values[t + 3] - values[t - 4];
    const r = values[t] - window / 7;
    const g = groups[weekday(start + t)];
    g.sum += r;
    g.sumSq += r * r;
    g.count++;
  }
  const total = groups.reduce((a, g) => a + g.count, 0);
  const grand = groups.reduce((a, g) => a + g.sum, 0) / total;
  let ssb = 0;
  let ssw = 0;
  for (const g of groups) {
    const m = g.sum / g.count;
    ssb += g.count * (m - grand) ** 2;
    ssw += g.sumSq - g.count * m * m;
  }
  if (ssw <= 0) return ssb > 0 ? 0 : 1;
  if (ssb / (ssb + ssw) < 0.02) return 1;
  return fTail(ssb / 6 / (ssw / (total - 7)), 6, total - 7);
}

function yearlyTest(values: Float64Array, start: number): number {
  const weeks = Math.floor(values.length / 7);
  const totals = new Float64Array(weeks);
  for (let w = 0; w < weeks; w++) for (let d = 0; d < 7; d++) totals[w] += values[w * 7 + d];
  const rss = (order: number) => {
    const p = 2 + 2 * order;
    const gram = new Float64Array(p * p);
    const rhs = new Float64Array(p);
    const row = new Float64Array(p);
    const fill = (w: number) => {
      row[0] = 1;
      row[1] = w / weeks;
      const phase = 2 * Math.PI * yearPhase(start + w * 7 + 3);
      for (let k = 1; k <= order; k++) {
        row[2 * k] = Math.sin(k * phase);
        row[2 * k + 1] = Math.cos(k * phase);
      }
    };
    for (let w = 0; w < weeks; w++) {
      fill(w);
      accumulate(gram, rhs, row, totals[w]);
    }
    const beta = solveRidge(symmetrize(gram, p), rhs, new Float64Array(p).fill(1e-9));
    let sum = 0;
    for (let w = 0; w < weeks; w++) {
      fill(w);
      sum += (totals[w] - dot(row, beta)) ** 2;
    }
    return sum;
  };
  const order = 3;
  const rss0 = rss(0);
  const rss1 = rss(order);
  if (rss1 <= 0) return rss0 > 0 ? 0 : 1;
  if ((rss0 - rss1) / rss0 < 0.05) return 1;
  const df2 = weeks - (2 + 2 * order);
  return fTail((rss0 - rss1) / (2 * order) / (rss1 / df2), 2 * order, df2);
}
