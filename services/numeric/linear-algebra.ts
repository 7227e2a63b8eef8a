/**
 * Dense symmetric solves for the ridge and logistic fits. p stays small (tens of columns),
 * so Cholesky on Float64Array is all we need and is far faster than any
 * general-purpose matrix library.
 */

/** Solves (A + diag(penalty)) x = b for symmetric positive definite A (p×p, row-major). */
export function solveRidge(gram: Float64Array, rhs: Float64Array, penalty: Float64Array): Float64Array {
  return solveCholesky(choleskyRidge(gram, penalty, rhs.length), rhs);
}

/**
 * The Cholesky factor L (lower triangle, row-major) of A + diag(penalty), for
 * solving several right-hand sides against one matrix (solveCholesky): the
 * factorisation is the O(p³) part of a solve.
 */
export function choleskyRidge(gram: Float64Array, penalty: Float64Array, p = penalty.length): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = gram[i * p + j] + (i === j ? penalty[i] : 0);
      for (let k = 0; k < j; k++) sum -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        // A tiny jitter keeps columns with no data (a changepoint after the origin) solvable.
        // biome-ignore lint/complexity/useMathMinMax: a NaN sum must become the floor, as Math.max would not make it
        l[i * p + i] = Math.sqrt(sum > 1e-12 ? sum : 1e-12);
      } else {
        l[i * p + j] = sum / l[j * p + j];
      }
    }
  }
  return l;
}

/** Solves L Lᵀ x = b for a factor from choleskyRidge. */
export function solveCholesky(l: Float64Array, rhs: Float64Array): Float64Array {
  const p = rhs.length;
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = rhs[i];
    for (let k = 0; k < i; k++) sum -= l[i * p + k] * z[k];
    z[i] = sum / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < p; k++) sum -= l[k * p + i] * x[k];
    x[i] = sum / l[i * p + i];
  }
  return x;
}

/** Adds row·rowᵀ to the upper triangle of gram and row·y to rhs. */
export function accumulate(gram: Float64Array, rhs: Float64Array, row: Float64Array, y: number): void {
  const p = row.length;
  for (let i = 0; i < p; i++) {
    const ri = row[i];
    if (ri === 0) continue;
    rhs[i] += ri * y;
    const base = i * p;
    for (let j = i; j < p; j++) gram[base + j] += ri * row[j];
  }
}

/** Mirrors the upper triangle into the lower one. */
export function symmetrize(gram: Float64Array, p: number): Float64Array {
  const out = Float64Array.from(gram);
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) out[i * p + j] = out[j * p + i];
  return out;
}

export function dot(a: Float64Array, b: Float64Array, offset = 0): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[offset + i] * b[i];
  return s;
}
