import { solveRidge } from "../../numeric/linear-algebra.js";

export interface LogisticModel {
  weights: Float64Array;
  bias: number;
}

/**
 * L2-regularised logistic regression fitted by Newton's method (IRLS): with a
 * few dozen features it converges in a handful of passes, deterministically.
 */
export function fitLogistic(
  x: Float32Array,
  y: Uint8Array,
  features: number,
  options: { l2?: number; iterations?: number } = {},
): LogisticModel {
  const n = y.length;
  const p = features + 1;
  const l2 = options.l2 ?? 1;
  const beta = new Float64Array(p);
  const row = new Float64Array(p);
  for (let it = 0; it < (options.iterations ?? 12); it++) {
    const hessian = new Float64Array(p * p);
    const gradient = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < features; k++) row[k] = x[i * features + k];
      row[features] = 1;
      let z = 0;
      for (let k = 0; k < p; k++) z += row[k] * beta[k];
      const prob = 1 / (1 + Math.exp(-z));
      const w = Math.max(prob * (1 - prob), 1e-6);
      const residual = y[i] - prob;
      for (let a = 0; a < p; a++) {
        const ra = row[a];
        if (ra === 0) continue;
        gradient[a] += ra * residual;
        const wa = w * ra;
        for (let b = a; b < p; b++) hessian[a * p + b] += wa * row[b];
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hessian[a * p + b] = hessian[b * p + a];
    const penalty = new Float64Array(p);
    for (let k = 0; k < features; k++) {
      penalty[k] = l2;
      gradient[k] -= l2 * beta[k];
    }
    const step = solveRidge(hessian, gradient, penalty);
    let change = 0;
    for (let k = 0; k < p; k++) {
      beta[k] += step[k];
      change = Math.max(change, Math.abs(step[k]));
    }
    if (change < 1e-6) break;
  }
  return { weights: beta.slice(0, features), bias: beta[features] };
}

export function predictLogistic(model: LogisticModel, x: Float32Array, offset = 0): number {
  let z = model.bias;
  for (let k = 0; k < model.weights.length; k++) z += model.weights[k] * x[offset + k];
  return 1 / (1 + Math.exp(-z));
}

/** A one-feature logistic fit mapping a score to a probability (to give v0 a fair log-loss). */
export function calibrate(scores: Float32Array, y: Uint8Array): LogisticModel {
  return fitLogistic(scores, y, 1, { l2: 1e-6 });
}
