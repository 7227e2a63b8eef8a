import { INTEREST_WORDS, INTERESTS } from "../travellers/index.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { vectorize } from "./features/text-vectors.js";

/** The interests a free-text prompt mentions, by name or by the words travellers use for them. */
export function interestsIn(prompt: string): string[] {
  const text = prompt.toLowerCase();
  return INTERESTS.filter((i) => text.includes(i) || INTEREST_WORDS[i].some((w) => text.includes(w.toLowerCase())));
}

/** Without a searcher profile, the prompt, place and age range stand for one. */
export function promptProfile(
  prompt: string,
  latitude: number,
  longitude: number,
  minAge: number,
  maxAge: number,
  idf: Float32Array,
): ProfileFeatures {
  const interests = interestsIn(prompt);
  const vector = vectorize(prompt, idf);
  let mask = 0;
  for (const i of interests) mask |= 1 << INTERESTS.indexOf(i as (typeof INTERESTS)[number]);
  return {
    id: "prompt",
    age: Math.round((minAge + Math.min(maxAge, 80)) / 2),
    minAcceptedAge: minAge,
    maxAcceptedAge: maxAge,
    latitude,
    longitude,
    interests: mask,
    needs: 0,
    style: -1,
    outgoing: 0.5,
    bio: vector,
    prompt: vector,
    document: vector,
    trips: [],
  };
}
