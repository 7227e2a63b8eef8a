import { createRequire } from "node:module";

/** A city named in a prompt, with where it is. */
export interface Place {
  name: string;
  latitude: number;
  longitude: number;
}

interface CityEntry extends Place {
  population: number;
}

let catalogue: Map<string, CityEntry> | undefined;
let longestName = 1;

/**
 * The cities of city-timezones (7,329, the catalogue the synthetic
 * population's homes come from), by lower-case name and ASCII name; where
 * names repeat, the most populous city has the name.
 */
function cities(): Map<string, CityEntry> {
  if (catalogue) return catalogue;
  const require = createRequire(import.meta.url);
  const raw = require("city-timezones/data/cityMap.json") as { city: string; city_ascii: string; lat: number; lng: number; pop: number }[];
  const byName = new Map<string, CityEntry>();
  for (const c of raw) {
    const entry = { name: c.city, latitude: c.lat, longitude: c.lng, population: c.pop ?? 0 };
    for (const key of new Set([c.city.toLowerCase(), c.city_ascii.toLowerCase(), folded(c.city)])) {
      const seen = byName.get(key);
      if (!seen || seen.population < entry.population) byName.set(key, entry);
      longestName = Math.max(longestName, key.split(/\s+/).length);
    }
  }
  catalogue = byName;
  return byName;
}

/**
 * A name without its accents, lower case: the catalogue spells some cities
 * only in ASCII ("Sao Paulo"), and people write them either way.
 */
function folded(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Words that introduce a place: "in Lisbon", "near Kyoto", "based in Berlin". */
const BEFORE_PLACE = new Set(["in", "near", "around", "from", "at", "to", "visiting", "round", "nearby", "of", "by", "across", "within"]);

/**
 * The city a prompt names after a word of place ("in Lisbon", "near Kyoto",
 * "living in Mexico City"), longest name first. A one-word name that is
 * also an ordinary word ("Nice", "Reading", "Bath") counts only when
 * capitalised, as a person writing about the city would, unless the city
 * has a million people ("near lisbon"); `common` tells which words are
 * ordinary.
 */
export function placeIn(prompt: string, common: (word: string) => boolean): (Place & { match: string }) | undefined {
  const byName = cities();
  const words = prompt.split(/[^\p{L}\p{M}'.-]+/u).filter(Boolean);
  for (let i = 1; i < words.length; i++) {
    if (!BEFORE_PLACE.has(words[i - 1].toLowerCase())) continue;
    for (let n = Math.min(longestName, words.length - i); n >= 1; n--) {
      const written = words
        .slice(i, i + n)
        .join(" ")
        .replace(/[.,]+$/, "");
      const city = byName.get(written.toLowerCase()) ?? byName.get(folded(written));
      if (!city) continue;
      const capitalised = /^\p{Lu}/u.test(written);
      if (!capitalised && n === 1 && city.population < 1_000_000 && common(written.toLowerCase())) continue;
      return { name: city.name, latitude: city.latitude, longitude: city.longitude, match: written };
    }
  }
  return undefined;
}

/** Where a city of the catalogue is, by name (for the evaluation's labels and for tests). */
export function cityNamed(name: string): Place | undefined {
  const c = cities().get(name.toLowerCase());
  return c && { name: c.name, latitude: c.latitude, longitude: c.longitude };
}
