import type { ProfileFeatures } from "./features/pair-features.js";
import { vectorize } from "./features/text-vectors.js";

/**
 * Without a searcher profile, the prompt, place and age range stand for one:
 * the interests read from the prompt (a bitmask over INTERESTS), its words as
 * bio and prompt, its place and the middle of its age range.
 */
export function searcherProfile(
  prompt: string,
  latitude: number,
  longitude: number,
  minAge: number,
  maxAge: number,
  idf: Float32Array,
  interests: number,
): ProfileFeatures {
  const vector = vectorize(prompt, idf);
  return {
    id: "prompt",
    age: Math.round((minAge + Math.min(maxAge, 80)) / 2),
    minAcceptedAge: minAge,
    maxAcceptedAge: maxAge,
    latitude,
    longitude,
    interests,
    needs: 0,
    style: -1,
    outgoing: 0.5,
    bio: vector,
    prompt: vector,
    document: vector,
    trips: [],
  };
}
