import { Random } from "../numeric/random.js";
import { solveRidge } from "../numeric/linear-algebra.js";

/**
 * Implicit-feedback matrix factorisation (Hu, Koren & Volinsky's weighted
 * ALS) with side information as priors: a traveller's vector is shrunk
 * toward a ridge mapping of their declared interests, a destination's toward
 * a mapping of its tags. So a traveller with no history gets the interest
 * mapping alone (cold start), a destination nobody has touched gets its tags'
 * vector, and every score splits into interest, popularity and
 * collaborative parts (see reasons.ts).
 */
export interface Factorisation {
  dim: number;
  lambda: number;
  alpha: number;
  /** Destination vectors, items × dim. */
  items: Float32Array;
  /** VᵀV, dim × dim: the term every user's solve shares. */
  itemGram: Float64Array;
  /** Interest → user vector, (features + 1) × dim; the last row is the intercept. */
  interestMap: Float64Array;
  features: number;
}

/** A row's observations: indices and their interaction strengths. */
export interface Observations {
  index: Int32Array;
  strength: Float32Array;
}

export interface TrainingData {
  items: number;
  /** Number of interest (and tag) features. */
  features: number;
  users: readonly { interests: readonly number[]; observed: Observations }[];
  itemTags: readonly (readonly number[])[];
}

export interface TrainingOptions {
  dim?: number;
  iterations?: number;
  lambda?: number;
  alpha?: number;
  seed?: number;
}

/**
 * Shrinkage toward the interest and tag priors. Chosen by services/recommend/eval/tune.ts on the
 * tuning population alone (never the gate's or the holdout's): a traveller has some twenty events
 * and a destination of a large catalogue about ten, so strong shrinkage pays.
 */
export const RECOMMEND_LAMBDA = 100;

export function trainFactorisation(data: TrainingData, options: TrainingOptions = {}): { model: Factorisation; users: Float32Array } {
  const d = options.dim ?? 24;
  const lambda = options.lambda ?? RECOMMEND_LAMBDA;
  const alpha = options.alpha ?? 2;
  const iterations = options.iterations ?? 8;
  const r = new Random(options.seed ?? 1);
  const nU = data.users.length;
  const nI = data.items;
  const users = new Float32Array(nU * d);
  const items = new Float32Array(nI * d);
  for (let j = 0; j < items.length; j++) items[j] = 0.1 * r.gaussian();
  const byItem = transpose(
    data.users.map((u) => u.observed),
    nI,
  );
  const userFeatures = data.users.map((u) => u.interests);
  let interestMap: Float64Array = new Float64Array((data.features + 1) * d);
  let tagMap: Float64Array = new Float64Array((data.features + 1) * d);
  const prior = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    let gram = gramOf(items, nI, d);
    for (let u = 0; u < nU; u++) {
      mapped(interestMap, userFeatures[u], d, prior);
      users.set(solveRow(items, gram, d, data.users[u].observed, prior, lambda, alpha), u * d);
    }
    interestMap = fitMap(userFeatures, users, data.features, d);
    gram = gramOf(users, nU, d);
    for (let i = 0; i < nI; i++) {
      mapped(tagMap, data.itemTags[i], d, prior);
      items.set(solveRow(users, gram, d, byItem[i], prior, lambda, alpha), i * d);
    }
    tagMap = fitMap(data.itemTags, items, data.features, d);
  }
  return { model: { dim: d, lambda, alpha, items, itemGram: gramOf(items, nI, d), interestMap, features: data.features }, users };
}

/** A traveller's vector from their history against the fixed destination vectors (fold-in); the prior alone without history. */
export function userVector(model: Factorisation, interests: readonly number[], observed: Observations): Float32Array {
  const prior = mapped(model.interestMap, interests, model.dim, new Float64Array(model.dim));
  if (observed.index.length === 0) return Float32Array.from(prior);
  return Float32Array.from(solveRow(model.items, model.itemGram, model.dim, observed, prior, model.lambda, model.alpha));
}

/** The interest-mapped part of a user vector: intercept plus each declared interest's row. */
export function mapped(map: Float64Array, features: readonly number[], d: number, out: Float64Array): Float64Array {
  const intercept = (map.length / d - 1) * d;
  for (let j = 0; j < d; j++) out[j] = map[intercept + j];
  for (const k of features) for (let j = 0; j < d; j++) out[j] += map[k * d + j];
  return out;
}

/** argmin Σ c (1 − x·y)² over observed + Σ (0 − x·y)² over the rest + λ‖x − prior‖², with c = 1 + α·strength. */
function solveRow(
  others: Float32Array,
  gram: Float64Array,
  d: number,
  obs: Observations,
  prior: Float64Array,
  lambda: number,
  alpha: number,
): Float64Array {
  const a = Float64Array.from(gram);
  const b = new Float64Array(d);
  for (let j = 0; j < d; j++) b[j] = lambda * prior[j];
  for (let n = 0; n < obs.index.length; n++) {
    const base = obs.index[n] * d;
    const c = 1 + alpha * obs.strength[n];
    for (let x = 0; x < d; x++) {
      const vx = others[base + x];
      b[x] += c * vx;
      const w = (c - 1) * vx;
      // solveRidge reads the lower triangle only.
      for (let y = 0; y <= x; y++) a[x * d + y] += w * others[base + y];
    }
  }
  return solveRidge(a, b, penaltyOf(d, lambda));
}

let penaltyCache: Float64Array | undefined;

function penaltyOf(d: number, lambda: number): Float64Array {
  if (!penaltyCache || penaltyCache.length !== d || penaltyCache[0] !== lambda) penaltyCache = new Float64Array(d).fill(lambda);
  return penaltyCache;
}

function gramOf(m: Float32Array, rows: number, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    for (let x = 0; x < d; x++) {
      const vx = m[base + x];
      if (vx === 0) continue;
      for (let y = x; y < d; y++) g[x * d + y] += vx * m[base + y];
    }
  }
  for (let x = 0; x < d; x++) for (let y = 0; y < x; y++) g[x * d + y] = g[y * d + x];
  return g;
}

/** Ridge regression of each vector on indicator features plus an intercept (left almost unpenalised). */
function fitMap(features: readonly (readonly number[])[], vectors: Float32Array, p: number, d: number): Float64Array {
  const q = p + 1;
  const gram = new Float64Array(q * q);
  const rhs = new Float64Array(q * d);
  features.forEach((fs, row) => {
    const cols = [...fs, p];
    for (const a of cols) {
      for (const b of cols) gram[a * q + b] += 1;
      for (let j = 0; j < d; j++) rhs[a * d + j] += vectors[row * d + j];
    }
  });
  const penalty = new Float64Array(q).fill(1);
  penalty[p] = 1e-6;
  const map = new Float64Array(q * d);
  const column = new Float64Array(q);
  for (let j = 0; j < d; j++) {
    for (let a = 0; a < q; a++) column[a] = rhs[a * d + j];
    const w = solveRidge(gram, column, penalty);
    for (let a = 0; a < q; a++) map[a * d + j] = w[a];
  }
  return map;
}

function transpose(rows: readonly Observations[], columns: number): Observations[] {
  const counts = new Int32Array(columns);
  for (const r of rows) for (const i of r.index) counts[i]++;
  const out = Array.from(counts, (n) => ({ index: new Int32Array(n), strength: new Float32Array(n) }));
  const fill = new Int32Array(columns);
  rows.forEach((r, u) => {
    for (let n = 0; n < r.index.length; n++) {
      const i = r.index[n];
      out[i].index[fill[i]] = u;
      out[i].strength[fill[i]++] = r.strength[n];
    }
  });
  return out;
}

/**
 * Scores of every destination for one user vector: a 10k × 24 mat-vec. Four
 * running sums per row let V8 overlap the multiply-adds (measured: half the
 * time of one sum on the bench catalogue).
 */
export function scoreAll(
  model: Factorisation,
  user: Float32Array | Float64Array,
  out = new Float32Array(model.items.length / model.dim),
): Float32Array {
  const d = model.dim;
  const v = model.items;
  const tail = d - (d % 4);
  for (let i = 0, base = 0; i < out.length; i++, base += d) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < tail; j += 4) {
      s0 += v[base + j] * user[j];
      s1 += v[base + j + 1] * user[j + 1];
      s2 += v[base + j + 2] * user[j + 2];
      s3 += v[base + j + 3] * user[j + 3];
    }
    for (; j < d; j++) s0 += v[base + j] * user[j];
    out[i] = s0 + s1 + (s2 + s3);
  }
  return out;
}
