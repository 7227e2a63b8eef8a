import type { ReadPrompt } from "./prompt/read.js";
import type { Place } from "./prompt/places.js";
import { interestMask, type SearchIntent } from "./search-ranking.js";
import type { WordVectors } from "./text/word-vectors.js";

/** The radius a search may ask for, and what it gets when it names none. */
export const MAX_SEARCH_KM = 500;
export const DEFAULT_SEARCH_KM = 50;

/** A search's request fields, as far as where, how far and what ages go. */
export interface SearchFields {
  latitude?: number;
  longitude?: number;
  maxDistanceKm: number;
  ageRangeYears: readonly number[];
}

/** Where, how far, what ages and what for: the request's fields first, then what the prompt says, then defaults. */
export interface SearchPlan {
  latitude: number;
  longitude: number;
  km: number;
  minAge: number;
  maxAge: number;
  /** The place the prompt named, when it set the centre. */
  place?: Place;
  intent: SearchIntent;
}

/**
 * Resolves a search. Structured fields win over the prompt: a latitude and
 * longitude over a place in the text, age_range over ages in words,
 * max_distance_km over "within 20 km". Without either, the searcher's home,
 * all adult ages and 50 km.
 */
export function planSearch(
  req: SearchFields,
  read: ReadPrompt | undefined,
  home: { latitude: number; longitude: number } | undefined,
  vectors: WordVectors,
): SearchPlan {
  const km = Math.min(MAX_SEARCH_KM, req.maxDistanceKm || read?.km || DEFAULT_SEARCH_KM);
  const [minAge, maxAge] = req.ageRangeYears.length === 2 ? req.ageRangeYears : (read?.ages ?? [18, 120]);
  const fromPrompt = req.latitude === undefined ? read?.place : undefined;
  const centre =
    req.latitude !== undefined && req.longitude !== undefined ? { latitude: req.latitude, longitude: req.longitude } : (fromPrompt ?? home);
  if (!centre) throw new Error("a search needs a centre: the request's, a place in the prompt, or the searcher's home");
  const vector = read?.content.length ? vectors.mean(read.content) : undefined;
  return {
    latitude: centre.latitude,
    longitude: centre.longitude,
    km,
    minAge,
    maxAge,
    ...(fromPrompt && { place: fromPrompt }),
    intent: {
      asked: read ? interestMask(read.interests.map((m) => m.interest)) : 0,
      ...(vector?.some((v) => v !== 0) && { vector }),
    },
  };
}
