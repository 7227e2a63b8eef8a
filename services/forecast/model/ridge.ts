import { columnKinds, fillRow, holidayIndex, type ColumnKind, type DesignSpec } from "./design.js";
import { accumulate, dot, solveRidge, symmetrize } from "../../numeric/linear-algebra.js";

/** Ridge strength per column kind, as a fraction of the rows fitted. */
export type Penalties = Record<ColumnKind, number>;

export const DEFAULT_PENALTIES: Penalties = {
  level: 0,
  slope: 0,
  changepoint: 0.02,
  weekly: 0.0005,
  yearly: 0.002,
  holiday: 0.0005,
  regressor: 0.0005,
};

/**
 * Normal equations of the whole history accumulated once, with snapshots at
 * chosen prefix lengths: a rolling-origin backtest then costs one small solve
 * per origin instead of a pass over the data, which is what keeps fit plus
 * backtest selection in milliseconds.
 */
export class PrefixGrams {
  readonly p: number;
  private readonly snapshots = new Map<number, { gram: Float64Array; rhs: Float64Array[] }>();
  private readonly kinds: ColumnKind[];
  private readonly holidays: Map<number, number[]>;

  constructor(
    readonly spec: DesignSpec,
    targets: readonly Float64Array[],
    prefixLengths: readonly number[],
  ) {
    this.kinds = columnKinds(spec);
    this.p = this.kinds.length;
    this.holidays = holidayIndex(spec);
    const n = targets[0].length;
    const wanted = [...new Set(prefixLengths)].filter((l) => l > 0 && l <= n).sort((a, b) => a - b);
    const gram = new Float64Array(this.p * this.p);
    const rhs = targets.map(() => new Float64Array(this.p));
    const row = new Float64Array(this.p);
    let next = 0;
    for (let t = 0; t < n && next < wanted.length; t++) {
      fillRow(spec, this.holidays, t, row);
      for (let k = 0; k < targets.length; k++) {
        // Only the first target pays for the Gram update; the others add their right-hand side.
        if (k === 0) accumulate(gram, rhs[0], row, targets[0][t]);
        else addRhs(rhs[k], row, targets[k][t]);
      }
      if (t + 1 === wanted[next]) {
        this.snapshots.set(wanted[next], { gram: symmetrize(gram, this.p), rhs: rhs.map((r) => Float64Array.from(r)) });
        next++;
      }
    }
  }

  /** Coefficients fitted on the first `length` rows for target k. */
  fit(length: number, target: number, penalties: Penalties): Float64Array {
    const snap = this.snapshots.get(length);
    if (!snap) throw new Error(`no snapshot at ${length}`);
    const penalty = Float64Array.from(this.kinds, (k) => penalties[k] * length + (k === "level" ? 0 : 1e-9));
    return solveRidge(snap.gram, snap.rhs[target], penalty);
  }

  /** Predictions for indices [from, to) with the given coefficients. */
  predict(beta: Float64Array, from: number, to: number): Float64Array {
    const out = new Float64Array(to - from);
    const row = new Float64Array(this.p);
    for (let t = from; t < to; t++) {
      fillRow(this.spec, this.holidays, t, row);
      out[t - from] = dot(row, beta);
    }
    return out;
  }
}

function addRhs(rhs: Float64Array, row: Float64Array, y: number): void {
  for (let i = 0; i < row.length; i++) rhs[i] += row[i] * y;
}
