import { columnKinds, fillRow, holidayIndex, type ColumnKind, type DesignSpec } from "./design.js";
import { accumulate, choleskyRidge, dot, solveCholesky, symmetrize } from "../../numeric/linear-algebra.js";

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

/** A column whose non-zeros are fewer than this share of its span is walked by its index list. */
const SPARSE_SHARE = 0.25;

/**
 * Normal equations of the whole history accumulated once, with snapshots at
 * chosen prefix lengths: a rolling-origin backtest then costs one small solve
 * per origin instead of a pass over the data, which is what keeps fit plus
 * backtest selection in milliseconds.
 *
 * The design is filled once, by column, for every row a fit or a prediction
 * reads (the history and `rows` beyond it), and each Gram entry is one dot
 * product of two columns over where both can be non-zero: a changepoint's
 * column is zero before it, a weekday's or a holiday's on most days. Sums run
 * in row order and leave out only terms that are zero (adding a zero changes
 * no sum), so the equations are those of a row-by-row accumulation to the
 * last bit, for a fraction of the work.
 * A design or target that is not finite everywhere (a NaN times a zero is not
 * zero) takes the row-by-row accumulation itself.
 */
export class PrefixGrams {
  readonly p: number;
  private readonly snapshots = new Map<number, { gram: Float64Array; rhs: Float64Array[] }>();
  private readonly kinds: ColumnKind[];
  private readonly holidays: Map<number, number[]>;
  /** Column-major: column c of row t at c * rows + t. */
  private readonly design: Float64Array;
  private readonly rows: number;
  /** Cholesky factors by penalties (the object) and prefix length: the targets (linear, log) share one per fit. */
  private readonly factors = new WeakMap<Penalties, Map<number, Float64Array>>();

  /**
   * `rows` (at least the history's length): how many rows the design holds,
   * so predictions up to there read it instead of filling rows anew.
   */
  constructor(
    readonly spec: DesignSpec,
    targets: readonly Float64Array[],
    prefixLengths: readonly number[],
    rows = targets[0].length,
  ) {
    this.kinds = columnKinds(spec);
    this.p = this.kinds.length;
    this.holidays = holidayIndex(spec);
    const n = targets[0].length;
    this.rows = Math.max(rows, n);
    this.design = fillDesign(spec, this.holidays, this.p, this.rows);
    const wanted = [...new Set(prefixLengths)].filter((l) => l > 0 && l <= n).sort((a, b) => a - b);
    if (!wanted.length) return;
    const grams = wanted.map(() => new Float64Array(this.p * this.p));
    const rhs = wanted.map(() => targets.map(() => new Float64Array(this.p)));
    const end = wanted[wanted.length - 1];
    if (finite(this.design, this.p, this.rows, end) && targets.every((y) => finite(y, 1, n, end))) {
      this.byColumns(targets, wanted, grams, rhs);
    } else {
      this.byRows(targets, wanted, grams, rhs);
    }
    for (let k = 0; k < wanted.length; k++) this.snapshots.set(wanted[k], { gram: grams[k], rhs: rhs[k] });
  }

  /**
   * Coefficients fitted on the first `length` rows for target k. Fits that
   * pass the same `penalties` object (not merely equal values) share a
   * factorisation, so pass one object per set of penalties.
   */
  fit(length: number, target: number, penalties: Readonly<Penalties>): Float64Array {
    const snap = this.snapshots.get(length);
    if (!snap) throw new Error(`no snapshot at ${length}`);
    let byLength = this.factors.get(penalties);
    if (!byLength) this.factors.set(penalties, (byLength = new Map()));
    let factor = byLength.get(length);
    if (!factor) {
      const penalty = Float64Array.from(this.kinds, (k) => penalties[k] * length + (k === "level" ? 0 : 1e-9));
      factor = choleskyRidge(snap.gram, penalty);
      byLength.set(length, factor);
    }
    return solveCholesky(factor, snap.rhs[target]);
  }

  /** Predictions for indices [from, to) with the given coefficients. */
  predict(beta: Float64Array, from: number, to: number): Float64Array {
    const out = new Float64Array(to - from);
    const stored = Math.min(to, this.rows);
    // Column by column, each row's sum still adds its terms in column order (as dot() would).
    for (let c = 0; c < this.p; c++) {
      const b = beta[c];
      const base = c * this.rows;
      for (let t = from; t < stored; t++) out[t - from] += this.design[base + t] * b;
    }
    if (stored < to) {
      const row = new Float64Array(this.p);
      for (let t = Math.max(from, stored); t < to; t++) {
        fillRow(this.spec, this.holidays, t, row);
        out[t - from] = dot(row, beta);
      }
    }
    return out;
  }

  /**
   * Each entry a dot product of two columns over rows where both may be
   * non-zero, in row order, read off at every snapshot's length.
   */
  private byColumns(targets: readonly Float64Array[], wanted: number[], grams: Float64Array[], rhs: Float64Array[][]): void {
    const { p, rows, design } = this;
    const end = wanted[wanted.length - 1];
    const spans = Array.from({ length: p }, (_, c) => columnSpan(design, c * rows, end));
    for (let a = 0; a < p; a++) {
      const sa = spans[a];
      const baseA = a * rows;
      for (let b = a; b < p; b++) {
        const sb = spans[b];
        const baseB = b * rows;
        const from = Math.max(sa.first, sb.first);
        const to = Math.min(sa.end, sb.end);
        const sparse = sa.indices && (!sb.indices || sa.indices.length <= sb.indices.length) ? sa.indices : sb.indices;
        let acc = 0;
        let k = 0;
        if (sparse) {
          for (let i = 0; i < sparse.length; i++) {
            const t = sparse[i];
            if (t >= to) break;
            while (t >= wanted[k]) grams[k++][a * p + b] = acc;
            acc += design[baseA + t] * design[baseB + t];
          }
        } else {
          let t = from;
          while (k < wanted.length) {
            const stop = Math.min(to, wanted[k]);
            for (; t < stop; t++) acc += design[baseA + t] * design[baseB + t];
            if (t < wanted[k]) break;
            grams[k++][a * p + b] = acc;
          }
        }
        for (; k < wanted.length; k++) grams[k][a * p + b] = acc;
      }
      for (let j = 0; j < targets.length; j++) {
        const y = targets[j];
        let acc = 0;
        let k = 0;
        if (sa.indices) {
          for (let i = 0; i < sa.indices.length; i++) {
            const t = sa.indices[i];
            while (t >= wanted[k]) rhs[k++][j][a] = acc;
            acc += design[baseA + t] * y[t];
          }
        } else {
          let t = sa.first;
          while (k < wanted.length) {
            const stop = Math.min(sa.end, wanted[k]);
            for (; t < stop; t++) acc += design[baseA + t] * y[t];
            if (t < wanted[k]) break;
            rhs[k++][j][a] = acc;
          }
        }
        for (; k < wanted.length; k++) rhs[k][j][a] = acc;
      }
    }
    for (const g of grams) mirror(g, p);
  }

  /** The row-by-row accumulation, for designs or targets with non-finite values. */
  private byRows(targets: readonly Float64Array[], wanted: number[], grams: Float64Array[], rhs: Float64Array[][]): void {
    const gram = new Float64Array(this.p * this.p);
    const sums = targets.map(() => new Float64Array(this.p));
    const row = new Float64Array(this.p);
    let next = 0;
    for (let t = 0; next < wanted.length; t++) {
      for (let c = 0; c < this.p; c++) row[c] = this.design[c * this.rows + t];
      for (let k = 0; k < targets.length; k++) {
        // Only the first target pays for the Gram update; the others add their right-hand side.
        if (k === 0) accumulate(gram, sums[0], row, targets[0][t]);
        else addRhs(sums[k], row, targets[k][t]);
      }
      if (t + 1 === wanted[next]) {
        grams[next].set(symmetrize(gram, this.p));
        for (let k = 0; k < sums.length; k++) rhs[next][k].set(sums[k]);
        next++;
      }
    }
  }
}

/** The design for rows [0, rows), column-major, from the same fillRow the predictions beyond it use. */
function fillDesign(spec: DesignSpec, holidays: Map<number, number[]>, p: number, rows: number): Float64Array {
  const design = new Float64Array(p * rows);
  const row = new Float64Array(p);
  for (let t = 0; t < rows; t++) {
    fillRow(spec, holidays, t, row);
    for (let c = 0; c < p; c++) design[c * rows + t] = row[c];
  }
  return design;
}

/**
 * Where a column can be non-zero among its first `end` rows: [first, end) of
 * its non-zeros, and their indices when they are few enough to walk instead.
 */
function columnSpan(design: Float64Array, base: number, end: number): { first: number; end: number; indices?: Int32Array } {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let t = 0; t < end; t++) {
    if (design[base + t] !== 0) {
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  if (first < 0) return { first: 0, end: 0, indices: new Int32Array(0) };
  if (count >= SPARSE_SHARE * (last + 1 - first)) return { first, end: last + 1 };
  const indices = new Int32Array(count);
  for (let t = first, i = 0; t <= last; t++) if (design[base + t] !== 0) indices[i++] = t;
  return { first, end: last + 1, indices };
}

/** Whether the first `end` rows of every one of `columns` columns (column-major, `rows` long) are finite. */
function finite(values: Float64Array, columns: number, rows: number, end: number): boolean {
  for (let c = 0; c < columns; c++) {
    for (let t = c * rows; t < c * rows + end; t++) if (!Number.isFinite(values[t])) return false;
  }
  return true;
}

/** Copies the upper triangle into the lower one, in place. */
function mirror(gram: Float64Array, p: number): void {
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) gram[i * p + j] = gram[j * p + i];
}

function addRhs(rhs: Float64Array, row: Float64Array, y: number): void {
  for (let i = 0; i < row.length; i++) rhs[i] += row[i] * y;
}
