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
  // A pool a few times the limit almost always holds the diverse top; the
  // full sort of everything admitted is the fallback when it does not.
  const poolSize = limit * 4 + 32;
  const pool = bestAdmitted(scores, poolSize, admit);
  const picked = diverse(pool, limit, countryOf, perCountry, pool.length < poolSize);
  if (picked) return picked;
  const all: number[] = [];
  for (let i = 0; i < scores.length; i++) if (admit(i)) all.push(i);
  return diverse(sortByScore(all, scores), limit, countryOf, perCountry, true)!;
}

/**
 * The `k` best admitted indices, best first (ties to the lower index), in one
 * pass with a min-heap of `k`: most of 10,000 scores lose to the heap's worst
 * at a glance, and only the few that would enter are checked by `admit`.
 */
function bestAdmitted(scores: Float32Array, k: number, admit: (i: number) => boolean): number[] {
  const heap = new Int32Array(k);
  let size = 0;
  // a is worse than b: lower score, or the same score and a later index.
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  for (let i = 0; i < scores.length; i++) {
    if (size === k && !worse(heap[0], i)) continue;
    if (!admit(i)) continue;
    let at: number;
    if (size < k) {
      at = size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(i, heap[parent])) break;
        heap[at] = heap[parent];
        at = parent;
      }
    } else {
      at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && worse(heap[right], heap[left]) ? right : left;
        if (!worse(heap[child], i)) break;
        heap[at] = heap[child];
        at = child;
      }
    }
    heap[at] = i;
  }
  return sortByScore(Array.from(heap.subarray(0, size)), scores);
}

function diverse(
  order: number[],
  limit: number,
  countryOf: (i: number) => string,
  perCountry: number,
  last: boolean,
): number[] | undefined {
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
