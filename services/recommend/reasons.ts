import { INTERESTS, type Interest } from "../travellers/index.js";
import type { Factorisation } from "./factorisation.js";

/**
 * What drove one destination's score. The user vector is intercept +
 * Σ declared interests' rows + a collaborative residual (factorisation.ts),
 * so the score u·v splits exactly into those parts.
 */
export interface ScoreParts {
  /** Each declared interest's share, u_k·v. */
  interests: { interest: Interest; share: number }[];
  /** The intercept's share: what every traveller is predicted to like. */
  popularity: number;
  /** The residual's share: what this traveller's own history adds beyond their interests. */
  collaborative: number;
}

export function scoreParts(model: Factorisation, user: Float32Array, interests: readonly number[], destination: number): ScoreParts {
  const d = model.dim;
  const v = model.items.subarray(destination * d, (destination + 1) * d);
  const map = model.interestMap;
  const intercept = model.features * d;
  let total = 0;
  let popularity = 0;
  for (let j = 0; j < d; j++) {
    total += user[j] * v[j];
    popularity += map[intercept + j] * v[j];
  }
  let explained = popularity;
  const shares = interests.map((k) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += map[k * d + j] * v[j];
    explained += s;
    return { interest: INTERESTS[k], share: s };
  });
  return { interests: shares, popularity, collaborative: total - explained };
}

/**
 * A sentence from the parts that actually carry the score: the declared
 * interests that push it up (those the destination is tagged with first), or
 * similar travellers' saves and bookings when the history's residual
 * outweighs them, or plain popularity when neither does.
 */
export function reasonOf(parts: ScoreParts, tags: readonly Interest[]): string {
  const positive = parts.interests.filter((p) => p.share > 0).sort((a, b) => b.share - a.share);
  const tagged = positive.filter((p) => tags.includes(p.interest));
  const chosen = (tagged.length ? tagged : positive).slice(0, 2);
  const interestWeight = chosen.reduce((a, p) => a + p.share, 0);
  const named = chosen.map((p) => p.interest).join(" and ");
  if (parts.collaborative > interestWeight && parts.collaborative > parts.popularity) {
    return chosen.length
      ? `Travellers with similar taste saved or booked it; it also fits your interest in ${chosen[0].interest}`
      : "Travellers with similar taste saved or booked it";
  }
  if (chosen.length && interestWeight >= 0.25 * parts.popularity) return `Based on your interest in ${named}`;
  if (chosen.length) return `Popular with travellers, and it fits your interest in ${chosen[0].interest}`;
  // Nothing learned pushes it up (a model trained on no interactions): the catalogue's order, largest places first, decides.
  if (parts.popularity <= 0 && parts.collaborative <= 0) return "One of the largest places in the catalogue";
  return "Popular with travellers";
}
