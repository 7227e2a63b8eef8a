import { fnv1a } from "../../numeric/hash.js";

/**
 * Text similarity for bios and prompts: hashed word unigrams and bigrams
 * weighted by TF-IDF, L2-normalised, compared by cosine. Hashing keeps the
 * representation fixed-size with no vocabulary to ship; the IDF table is
 * fitted on the population and saved with the model.
 */
export const TEXT_BUCKETS = 1 << 14;

/** Bucket indices in increasing order, and their weights; arrays, or views onto the profile store's columns. */
export interface SparseVector {
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

const STOP = new Set([
  "i",
  "and",
  "the",
  "a",
  "an",
  "to",
  "of",
  "in",
  "on",
  "my",
  "for",
  "with",
  "then",
  "is",
  "into",
  "someone",
  "love",
  "usually",
  "next",
  "list",
  "looking",
  "perfect",
  "day",
]);

export function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9\s'-]/g, " ")
    .split(/\s+/)
    .filter((w) => w.length > 1 && !STOP.has(w));
}

function bucket(term: string): number {
  return fnv1a(term) % TEXT_BUCKETS;
}

function termBuckets(text: string): number[] {
  const ws = tokens(text);
  const out = ws.map(bucket);
  for (let i = 0; i + 1 < ws.length; i++) out.push(bucket(`${ws[i]} ${ws[i + 1]}`));
  return out;
}

/** Inverse document frequencies over a corpus, smoothed. */
export function fitIdf(documents: Iterable<string>): Float32Array {
  const df = new Float32Array(TEXT_BUCKETS);
  let n = 0;
  for (const doc of documents) {
    n++;
    for (const b of new Set(termBuckets(doc))) df[b]++;
  }
  return df.map((d) => Math.log((1 + n) / (1 + d)) + 1);
}

export function vectorize(text: string, idf: Float32Array): SparseVector {
  const tf = new Map<number, number>();
  for (const b of termBuckets(text)) tf.set(b, (tf.get(b) ?? 0) + 1);
  const indices = [...tf.keys()].sort((a, b) => a - b);
  const values = indices.map((i) => tf.get(i)! * idf[i]);
  const norm = Math.hypot(...values) || 1;
  return { indices, values: values.map((v) => v / norm) };
}

export function cosine(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    if (a.indices[i] === b.indices[j]) s += a.values[i++] * b.values[j++];
    else if (a.indices[i] < b.indices[j]) i++;
    else j++;
  }
  return s;
}

/**
 * One sparse vector spread over every possible bucket (zero elsewhere), to
 * compare it with many: `cosine` walks only the other vector's entries,
 * without the merge's unpredictable branches. Float64 keeps each product the
 * one `cosine` forms, summed in the same increasing bucket order (the other
 * entries add exact zeros), so the result is identical to it.
 */
export class DenseVector {
  // One weight a bucket (128 KiB: the three a lead holds stay in a core's L2 cache).
  private readonly weights = new Float64Array(TEXT_BUCKETS);
  private held: SparseVector | undefined;

  /** Spreads `v`, clearing the one spread before. */
  hold(v: SparseVector): void {
    const old = this.held;
    if (old) for (let i = 0; i < old.indices.length; i++) this.weights[old.indices[i] & (TEXT_BUCKETS - 1)] = 0;
    for (let i = 0; i < v.indices.length; i++) this.weights[v.indices[i] & (TEXT_BUCKETS - 1)] = v.values[i];
    this.held = v;
  }

  /** cosine(held, b), exactly. */
  cosine(b: SparseVector): number {
    const w = this.weights;
    let s = 0;
    // Every bucket is below TEXT_BUCKETS (vectorize); the mask keeps a read in bounds whatever is passed.
    for (let j = 0; j < b.indices.length; j++) s += w[b.indices[j] & (TEXT_BUCKETS - 1)] * b.values[j];
    return s;
  }
}
