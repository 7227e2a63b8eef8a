/**
 * The best `limit` admitted destinations by score, with at most `perCountry`
 * from one country so a list is not ten cities of the same place; when the
 * filters leave too few countries, the cap gives way rather than the list
 * coming back short.
 */
export function topK(
  scores: Float32Array,
  limit: number,
  admit: (i: number) => boolean,
  countryOf: (i: number) => string,
  perCountry = 2,
): number[] {
  const admitted = new Int32Array(scores.length);
  const values = new Float32Array(scores.length);
  let m = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!admit(i)) continue;
    admitted[m] = i;
    values[m++] = scores[i];
  }
  // Sorting 10,000 candidates for ten places is most of a request's work; a
  // pool a few times the limit almost always holds the diverse top, and the
  // full sort is the fallback when it does not.
  const poolSize = limit * 4 + 32;
  if (m > poolSize) {
    const threshold = kthLargest(values.subarray(0, m), poolSize);
    const pool: number[] = [];
    for (let k = 0; k < m; k++) if (scores[admitted[k]] >= threshold) pool.push(admitted[k]);
    const picked = diverse(sortByScore(pool, scores), limit, countryOf, perCountry, false);
    if (picked) return picked;
  }
  return diverse(sortByScore(Array.from(admitted.subarray(0, m)), scores), limit, countryOf, perCountry, true)!;
}

function diverse(order: number[], limit: number, countryOf: (i: number) => string, perCountry: number, last: boolean): number[] | undefined {
  const picked: number[] = [];
  const held: number[] = [];
  const counts = new Map<string, number>();
  for (const i of order) {
    if (picked.length === limit) break;
    const c = countryOf(i);
    const n = counts.get(c) ?? 0;
    if (n >= perCountry) {
      held.push(i);
      continue;
    }
    counts.set(c, n + 1);
    picked.push(i);
  }
  // A short list from a partial pool may only mean the pool was too small.
  if (picked.length < limit && !last) return undefined;
  for (const i of held) {
    if (picked.length === limit) break;
    picked.push(i);
  }
  return picked;
}

function sortByScore(indices: number[], scores: Float32Array): number[] {
  return indices.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** The k-th largest value (quickselect; reorders its argument). */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target];
}
