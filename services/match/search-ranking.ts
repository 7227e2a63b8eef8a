import { INTERESTS, type Interest } from "../travellers/index.js";
import { bestOf } from "./best-of.js";
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
  const coverage = coverageOf(intent.asked, p.interests);
  return { coverage, text, factor: 0.85 * coverage + 0.15 * text };
}

/**
 * The order of a search's answers. With interests asked for, relevance
 * leads: travellers who declare more of them come first, and among equally
 * relevant travellers compatibility (the model's score) decides. With a
 * prompt whose words name no interest, text similarity and compatibility
 * count equally (every profile needs its text vector). Without a prompt,
 * compatibility alone.
 */
export function rankOrder(intent: SearchIntent, profiles: readonly ProfileFeatures[], scores: Float32Array, limit: number): number[] {
  const keys = new Float64Array(profiles.length);
  for (let i = 0; i < profiles.length; i++) {
    if (intent.asked) keys[i] = coverageOf(intent.asked, profiles[i].interests) * 10 + scores[i];
    else if (intent.vector) keys[i] = 0.5 * Math.max(0, similarity(intent.vector, profiles[i].embedding)) + 0.5 * scores[i];
    else keys[i] = scores[i];
  }
  return bestOf(keys, limit);
}

/** Whether rankOrder reads every profile's text vector (else only the answers' relevance does). */
export function ranksByText(intent: SearchIntent): boolean {
  return !intent.asked && intent.vector !== undefined;
}

/** rankOrder's answers, each with its relevance (which reads the text vectors of these profiles only). */
export function rankCandidates(
  intent: SearchIntent,
  profiles: readonly ProfileFeatures[],
  scores: Float32Array,
  limit: number,
): { i: number; relevance: Relevance }[] {
  return rankOrder(intent, profiles, scores, limit).map((i) => ({ i, relevance: relevanceOf(intent, profiles[i]) }));
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

function coverageOf(asked: number, interests: number): number {
  return popcount(asked & interests) / popcount(asked);
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}
