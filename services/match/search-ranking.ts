import { INTERESTS, type Interest } from "../travellers/index.js";
import { similarity } from "./features/traveller-vector.js";
import type { ProfileFeatures } from "./features/pair-features.js";

/** What a search asks of each candidate, read from its prompt. */
export interface SearchIntent {
  /** Interests asked for (bitmask over INTERESTS); 0 when none was recognised. */
  asked: number;
  /** The prompt's vector (unit), or undefined when the prompt has no content words. */
  vector?: Float32Array;
}

/** A candidate's relevance to the prompt, each part in [0, 1]. */
export interface Relevance {
  /** Share of the asked interests the candidate declares. */
  coverage: number;
  /** Cosine of the prompt's vector with the candidate's (negative clipped to 0). */
  text: number;
  /** The prompt factor: coverage when interests were asked for (text similarity breaks ties), else text. */
  factor: number;
}

export function relevanceOf(intent: SearchIntent, p: ProfileFeatures): Relevance {
  const text = intent.vector ? Math.max(0, similarity(intent.vector, p.embedding)) : 0;
  if (!intent.asked) return { coverage: 0, text, factor: text };
  const coverage = popcount(intent.asked & p.interests) / popcount(intent.asked);
  return { coverage, text, factor: 0.85 * coverage + 0.15 * text };
}

/**
 * The order of a search's answers. With interests asked for, relevance
 * leads: travellers who declare more of them come first, and among equally
 * relevant travellers compatibility (the model's score) decides. With a
 * prompt whose words name no interest, text similarity and compatibility
 * count equally. Without a prompt, compatibility alone.
 */
export function rankCandidates(
  intent: SearchIntent,
  profiles: readonly ProfileFeatures[],
  scores: Float32Array,
  limit: number,
): { i: number; relevance: Relevance }[] {
  const rows = profiles.map((p, i) => ({ i, relevance: relevanceOf(intent, p) }));
  const key = (r: (typeof rows)[number]) =>
    intent.asked ? r.relevance.coverage * 10 + scores[r.i] : intent.vector ? 0.5 * r.relevance.text + 0.5 * scores[r.i] : scores[r.i];
  const keys = new Float64Array(rows.length);
  for (const r of rows) keys[r.i] = key(r);
  return rows.sort((a, b) => keys[b.i] - keys[a.i] || a.i - b.i).slice(0, limit);
}

/** A bitmask of interest names (unknown names ignored). */
export function interestMask(names: readonly string[]): number {
  let m = 0;
  for (const n of names) {
    const k = INTERESTS.indexOf(n as Interest);
    if (k >= 0) m |= 1 << k;
  }
  return m;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}
