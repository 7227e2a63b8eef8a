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
  const ranks = heldOutRanks(observed, heldOut, scores);
  let recall = 0;
  let ndcg = 0;
  let judged = 0;
  for (const rank of ranks) {
    if (rank < 0) continue;
    judged++;
    recall += hitAt10(rank);
    ndcg += gainAt10(rank);
  }
  return { recallAt10: judged ? recall / judged : 0, ndcgAt10: judged ? ndcg / judged : 0, judged };
}

/**
 * Each traveller's held-out destination's rank (0 = first) among the
 * destinations they had not touched, or -1 when they are not judged: the
 * per-traveller figures a paired bootstrap resamples.
 */
export function heldOutRanks(
  observed: readonly Observations[],
  heldOut: readonly (number | undefined)[],
  scores: (n: number) => Float32Array,
): Int32Array {
  return Int32Array.from(observed, (obs, n) => {
    const target = heldOut[n];
    if (target === undefined) return -1;
    const s = scores(n);
    const seen = new Set(obs.index);
    let rank = 0;
    for (let i = 0; i < s.length; i++) if (i !== target && !seen.has(i) && s[i] > s[target]) rank++;
    return rank;
  });
}

/** A rank's contribution to recall@10 and to NDCG@10 (one relevant destination). */
export const hitAt10 = (rank: number) => (rank >= 0 && rank < K ? 1 : 0);
export const gainAt10 = (rank: number) => (rank >= 0 && rank < K ? 1 / Math.log2(rank + 2) : 0);

/** The baseline every model must beat: destinations ranked by total interaction strength. */
export function popularityScores(observed: readonly Observations[], items: number): Float32Array {
  const popularity = new Float32Array(items);
  for (const o of observed)
    o.index.forEach((i, n) => {
      popularity[i] += o.strength[n];
    });
  return popularity;
}
