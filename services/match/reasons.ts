import { FEATURE_NAMES_V2 } from "./features/feature-sets.js";
import { FEATURE_NAMES, personalityFactor, type ProfileFeatures } from "./features/pair-features.js";
import { haversineKm } from "../numeric/geography.js";
import { INTERESTS, NEEDS, TRAVEL_STYLES } from "../travellers/index.js";

const STYLE_FIRST = FEATURE_NAMES.indexOf("same_style") + 1;
const STYLE_LAST = STYLE_FIRST + (TRAVEL_STYLES.length * (TRAVEL_STYLES.length + 1)) / 2 - 1;

/** The factor breakdown of a scored pair, each in [0, 1]. */
export function factorsOf(x: Float32Array, offset: number, weights: Float64Array) {
  // The style factor is what the model learned about this pair of styles, squashed to [0, 1].
  let styleWeight = 0;
  for (let k = STYLE_FIRST; k <= STYLE_LAST; k++) if (x[offset + k] === 1) styleWeight = weights[k];
  return {
    interestOverlap: x[offset + 0],
    needs: x[offset + 1],
    bio: clamp01(x[offset + 2]),
    distance: x[offset + 3],
    age: x[offset + 5],
    prompt: clamp01(x[offset + 7]),
    tripOverlap: x[offset + 8],
    travelStyle: 1 / (1 + Math.exp(-styleWeight)),
    personality: personalityFactor(x, offset),
  };
}

/**
 * Why two travellers matched, strongest first: the features that lifted this
 * score most above a typical pair's (weight × (value − mean)), said with the
 * profiles' own facts.
 */
export function matchReasons(
  x: Float32Array,
  offset: number,
  model: { weights: Float64Array; means: Float64Array },
  a: ProfileFeatures,
  b: ProfileFeatures,
  max = 3,
): string[] {
  const contributions: { k: number; c: number }[] = [];
  // v1's features come first in every row (v2 appends its own), so one list of names reads both.
  for (let k = 0; k < model.weights.length; k++) {
    const c = model.weights[k] * (x[offset + k] - model.means[k]);
    if (c > 0.05) contributions.push({ k, c });
  }
  contributions.sort((p, q) => q.c - p.c);
  const out: string[] = [];
  for (const { k } of contributions) {
    const text = describe(FEATURE_NAMES_V2[k], a, b);
    if (text && !out.includes(text)) out.push(text);
    if (out.length >= max) break;
  }
  return out;
}

function describe(feature: string, a: ProfileFeatures, b: ProfileFeatures): string | undefined {
  if (feature === "interests" || feature === "context_interests") {
    const shared = INTERESTS.filter((_, i) => a.interests & b.interests & (1 << i));
    return shared.length ? `shares your interest in ${list(shared)}` : undefined;
  }
  if (feature === "needs") {
    const shared = NEEDS.filter((_, i) => a.needs & b.needs & (1 << i));
    return shared.length ? `also looking for a ${list(shared)}` : undefined;
  }
  if (feature === "distance" || feature === "log_distance") {
    return `lives ${Math.round(haversineKm(a.latitude, a.longitude, b.latitude, b.longitude))} km away`;
  }
  if (feature === "age" || feature === "age_both") return "each is in the age range the other wants";
  if (feature === "trip_overlap") {
    const trip = b.trips.find((t) => a.trips.some((u) => u.destination === t.destination)) ?? b.trips[0];
    return trip ? `also plans ${trip.destination} (${day(trip.startDay)} to ${day(trip.endDay)})` : "plans the same trip";
  }
  if (feature === "prompt") return "answers what you asked for";
  if (feature === "bio") return "writes about the same things in their bio";
  if (feature === "bio_embedding") return "describes their travels in a similar way";
  if (feature === "prompt_embedding") return "answered the prompts in a similar spirit";
  if (feature === "same_style" || feature.startsWith("style:")) return `compatible travel style (${TRAVEL_STYLES[b.style]})`;
  if (feature === "personality" || feature === "both_outgoing") return "similar temperament";
  return undefined;
}

function list(items: readonly string[]): string {
  const xs = items.slice(0, 3);
  return xs.length > 1 ? `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}` : xs[0];
}

function day(n: number): string {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
