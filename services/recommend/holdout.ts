import type { Observations } from "./factorisation.js";

export interface RankingMetrics {
  recallAt10: number;
  ndcgAt10: number;
}

const K = 10;

/**
 * Recall@10 and NDCG@10 of one held-out destination per judged traveller:
 * each method ranks the catalogue minus what the traveller already touched.
 * `scores(n)` gives traveller n's score of every destination.
 */
export function rankingMetrics(
  observed: readonly Observations[],
  heldOut: readonly (number | undefined)[],
  scores: (n: number) => Float32Array,
): RankingMetrics & { judged: number } {
  let recall = 0;
  let ndcg = 0;
  let judged = 0;
  observed.forEach((obs, n) => {
    const target = heldOut[n];
    if (target === undefined) return;
    judged++;
    const s = scores(n);
    const seen = new Set(obs.index);
    let rank = 0;
    for (let i = 0; i < s.length; i++) if (i !== target && !seen.has(i) && s[i] > s[target]) rank++;
    if (rank < K) {
      recall++;
      ndcg += 1 / Math.log2(rank + 2);
    }
  });
  return { recallAt10: judged ? recall / judged : 0, ndcgAt10: judged ? ndcg / judged : 0, judged };
}

/** The baseline every model must beat: destinations ranked by total interaction strength. */
export function popularityScores(observed: readonly Observations[], items: number): Float32Array {
  const popularity = new Float32Array(items);
  for (const o of observed)
    o.index.forEach((i, n) => {
      popularity[i] += o.strength[n];
    });
  return popularity;
}
