import { weekday, yearPhase } from "./calendar.js";
import type { Holiday } from "./holidays.js";

/**
 * The columns of the additive model, Prophet's decomposition fitted by
 * regularised least squares: intercept, a piecewise-linear trend (slope plus
 * one hinge per changepoint), day-of-week effects, yearly Fourier terms, one
 * indicator per holiday, and regressors known ahead of time.
 */
export interface DesignSpec {
  /** Day number of index 0. */
  readonly start: number;
  /** Trend time unit in days (the training length), so trend columns stay near [0, 1]. */
  readonly scale: number;
  /** Changepoint positions as indices. */
  readonly changepoints: readonly number[];
  readonly weekly: boolean;
  /** Fourier order of the yearly seasonality; 0 for none. */
  readonly yearlyOrder: number;
  readonly holidays: readonly Holiday[];
  /** Extra columns known in advance, indexed like the series (and beyond it, over the horizon). */
  readonly regressors: readonly Float64Array[];
}

export type ColumnKind = "level" | "slope" | "changepoint" | "weekly" | "yearly" | "holiday" | "regressor";

export function columnKinds(spec: DesignSpec): ColumnKind[] {
  return [
    "level",
    "slope",
    ...spec.changepoints.map(() => "changepoint" as const),
    ...(spec.weekly ? Array.from({ length: 6 }, () => "weekly" as const) : []),
    ...Array.from({ length: 2 * spec.yearlyOrder }, () => "yearly" as const),
    ...spec.holidays.map(() => "holiday" as const),
    ...spec.regressors.map(() => "regressor" as const),
  ];
}

/** Holiday membership by day number, built once per spec. */
export function holidayIndex(spec: DesignSpec): Map<number, number[]> {
  const index = new Map<number, number[]>();
  spec.holidays.forEach((h, k) => {
    for (const d of h.days) index.set(d, [...(index.get(d) ?? []), k]);
  });
  return index;
}

/** Writes the feature row of index t into `row` (zeroed first). */
export function fillRow(spec: DesignSpec, holidaysByDay: Map<number, number[]>, t: number, row: Float64Array): void {
  row.fill(0);
  let c = 0;
  row[c++] = 1;
  const x = t / spec.scale;
  row[c++] = x;
  for (const cp of spec.changepoints) {
    row[c++] = t > cp ? (t - cp) / spec.scale : 0;
  }
  const day = spec.start + t;
  if (spec.weekly) {
    const w = weekday(day);
    // Sunday is the baseline level; the other six days get their own offset.
    if (w > 0) row[c + w - 1] = 1;
    c += 6;
  }
  if (spec.yearlyOrder > 0) {
    const phase = 2 * Math.PI * yearPhase(day);
    for (let k = 1; k <= spec.yearlyOrder; k++) {
      row[c++] = Math.sin(k * phase);
      row[c++] = Math.cos(k * phase);
    }
  }
  const hs = holidaysByDay.get(day);
  if (hs) for (const k of hs) row[c + k] = 1;
  c += spec.holidays.length;
  for (const r of spec.regressors) row[c++] = t < r.length ? r[t] : 0;
}
