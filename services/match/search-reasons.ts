import { INTERESTS, type Interest } from "../travellers/index.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { haversineKm } from "../numeric/geography.js";
import type { Place } from "./prompt/places.js";
import type { Relevance } from "./search-ranking.js";

/** How a reason says that someone has an interest; "into <interest>" where no verb fits. */
const DOES: Partial<Record<Interest, string>> = {
  hiking: "hikes",
  diving: "dives",
  skiing: "skis",
  photography: "takes photographs",
  shopping: "likes shopping",
  cuisine: "cooks",
  museums: "goes to museums",
  festivals: "goes to festivals",
};

/**
 * What a candidate has of what the prompt asked for, in words: the asked
 * interests they declare ("hikes", "into food"), the place ("lives in
 * Lisbon", or how far from it), and, when no interest was named, that their
 * profile speaks of the same things.
 */
export function promptReasons(
  asked: number,
  relevance: Relevance,
  candidate: ProfileFeatures,
  city: string,
  place: Place | undefined,
): string[] {
  const out: string[] = [];
  const has = INTERESTS.filter((_, k) => asked & candidate.interests & (1 << k));
  if (has.length) out.push(join(has.map((i) => DOES[i] ?? `into ${i}`)));
  else if (relevance.text >= 0.5) out.push("writes about what you asked for");
  if (place) {
    if (city.toLowerCase() === place.name.toLowerCase()) out.push(`lives in ${city}`);
    else {
      const km = haversineKm(place.latitude, place.longitude, candidate.latitude, candidate.longitude);
      out.push(km < 1 ? `lives within 1 km of ${place.name}` : `lives ${Math.round(km)} km from ${place.name}`);
    }
  }
  return out;
}

function join(xs: readonly string[]): string {
  return xs.length > 1 ? `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}` : xs[0];
}
