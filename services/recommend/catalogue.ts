import { createRequire } from "node:module";
import { INTERESTS, type Interest } from "../travellers/index.js";
import { Random } from "../numeric/random.js";
import { seededHash } from "../numeric/hash.js";
import { goodMonthsOf } from "./seasons.js";

/** 1 = low, 2 = medium, 3 = high: the same order as the Budget enum. */
export type CostLevel = 1 | 2 | 3;

export interface Destination {
  id: string;
  name: string;
  country: string;
  latitude: number;
  longitude: number;
  population: number;
  tags: Interest[];
  costLevel: CostLevel;
  /** Bit m-1 set when month m is in season (see seasons.ts). */
  goodMonths: number;
}

interface City {
  city: string;
  lat: number;
  lng: number;
  pop: number;
  country: string;
  iso2: string;
  iso3?: string;
}

const CATALOGUE_SEED = 0x7ec0;
// Real cities come first; beyond the dataset's ~7,300 the catalogue adds
// districts of the largest cities (a deterministic offset from the centre,
// their own tags), so a 10,000-destination bench still uses real places.
const DISTRICTS = ["Old Town", "Harbour", "Riverside", "Hills", "North", "South", "East", "West", "Centre", "Outskirts"];

// The world's landlocked states (ISO 3166-1 alpha-2): no beach or diving however compact they are.
const LANDLOCKED = new Set(
  "AD AF AM AT AZ BF BI BO BT BW BY CF CH CZ ET HU KG KZ LA LI LS LU MD MK ML MN MW NE NP PY RS RW SK SM SS SZ TD TJ TM UG UZ VA ZM ZW XK".split(
    " ",
  ),
);

let citiesCache: City[] | undefined;

function cities(): City[] {
  if (citiesCache) return citiesCache;
  const require = createRequire(import.meta.url);
  const raw = require("city-timezones/data/cityMap.json") as City[];
  // A few places (Kosovo, Somaliland) have no ISO 3166 code in the dataset, only an ISO3-like one.
  citiesCache = raw
    .filter((c) => Number.isFinite(c.lat) && Number.isFinite(c.lng))
    .map((c) => ({ ...c, iso2: typeof c.iso2 === "string" ? c.iso2 : String(c.iso3 ?? "xx"), pop: c.pop ?? 0 }))
    .sort((a, b) => (b.pop ?? 0) - (a.pop ?? 0) || a.city.localeCompare(b.city));
  return citiesCache;
}

let continents: Record<string, string> | undefined;

function continentOf(iso2: string): string {
  if (!continents) {
    const require = createRequire(import.meta.url);
    const { countries } = require("countries-list") as { countries: Record<string, { continent: string }> };
    continents = Object.fromEntries(Object.entries(countries).map(([code, c]) => [code, c.continent]));
  }
  return continents[iso2] ?? "";
}

/**
 * The `size` most populous places, with tags, cost and season derived from
 * what is known about each one (latitude, population, country, continent)
 * through draws seeded by the place itself: the same place always gets the
 * same description, whatever the catalogue size.
 */
export function buildCatalogue(size: number): Destination[] {
  const all = cities();
  const out: Destination[] = [];
  const ids = new Set<string>();
  const islandLike = compactCountries(all);
  for (const c of all.slice(0, size))
    out.push(describe(c, c.city, uniqueId(ids, `${c.iso2.toLowerCase()}-${slug(c.city)}`), islandLike, c.lat, c.lng));
  for (let k = 0; out.length < size; k++) {
    const base = all[k % all.length];
    const district = DISTRICTS[Math.floor(k / all.length) % DISTRICTS.length];
    const round = Math.floor(k / (all.length * DISTRICTS.length));
    const r = new Random(seededHash(CATALOGUE_SEED, `${base.city}|${district}|${round}`));
    const lat = Math.max(-89.9, Math.min(89.9, base.lat + 0.05 * r.gaussian()));
    const lng = ((((base.lng + 0.05 * r.gaussian() + 180) % 360) + 360) % 360) - 180;
    const name = `${base.city} ${district}${round ? ` ${round + 1}` : ""}`;
    out.push(
      describe(
        { ...base, pop: Math.round(base.pop / 8) },
        name,
        uniqueId(ids, `${base.iso2.toLowerCase()}-${slug(name)}`),
        islandLike,
        lat,
        lng,
      ),
    );
  }
  return out;
}

function describe(c: City, name: string, id: string, islandLike: Set<string>, latitude: number, longitude: number): Destination {
  const r = new Random(seededHash(CATALOGUE_SEED, id));
  const abs = Math.abs(latitude);
  const pop = c.pop ?? 0;
  const big = pop > 2_000_000;
  const large = pop > 500_000;
  const small = pop < 100_000;
  const continent = continentOf(c.iso2);
  const oldWorld = continent === "EU" || continent === "AS" || continent === "AF";
  // No coastline data ships offline: small island-like countries are almost all coast, elsewhere it is a draw.
  const coastal = !LANDLOCKED.has(c.iso2) && (islandLike.has(c.iso2) || r.next() < 0.3);
  const mountainous = r.next() < (small ? 0.35 : 0.15);
  const p: Partial<Record<Interest, number>> = {
    beach: coastal && abs < 40 ? 0.85 : coastal ? 0.2 : 0,
    diving: coastal && abs < 28 ? 0.55 : 0,
    skiing: mountainous && abs > 35 && abs < 65 ? 0.7 : 0,
    hiking: mountainous ? 0.8 : small ? 0.25 : 0.08,
    nature: small ? 0.55 : large ? 0.05 : 0.25,
    adventure: mountainous || (small && abs > 55) ? 0.45 : 0.06,
    nightlife: big ? 0.8 : large ? 0.45 : 0.08,
    museums: big ? 0.75 : large ? 0.4 : 0.05,
    shopping: big ? 0.75 : large ? 0.35 : 0.05,
    art: big ? 0.55 : large ? 0.3 : 0.08,
    music: big ? 0.5 : large ? 0.3 : 0.08,
    festivals: large ? 0.35 : 0.1,
    food: large ? 0.5 : 0.2,
    cuisine: countryDraw(c.iso2, "cuisine") < 0.3 ? 0.6 : 0.1,
    wine: abs > 30 && abs < 50 && countryDraw(c.iso2, "wine") < 0.4 ? 0.55 : 0.03,
    history: oldWorld ? 0.45 : 0.12,
    culture: oldWorld ? 0.45 : 0.2,
    architecture: oldWorld && large ? 0.45 : large ? 0.2 : 0.08,
    wellness: abs < 30 ? 0.3 : 0.08,
    photography: 0.15,
  };
  let tags = INTERESTS.filter((k) => r.next() < (p[k] ?? 0));
  // Every place has something: fall back to its likeliest traits, capped so tags stay telling.
  const ranked = [...INTERESTS].sort((a, b) => (p[b] ?? 0) - (p[a] ?? 0));
  for (const k of ranked) if (tags.length < 2 && !tags.includes(k)) tags.push(k);
  if (tags.length > 6) tags = tags.sort((a, b) => (p[b] ?? 0) - (p[a] ?? 0)).slice(0, 6);
  tags.sort((a, b) => INTERESTS.indexOf(a) - INTERESTS.indexOf(b));
  return {
    id,
    name,
    country: c.country,
    latitude,
    longitude,
    population: pop,
    tags,
    costLevel: costOf(c.iso2, continent, pop, r),
    goodMonths: goodMonthsOf(latitude, tags.includes("skiing"), r.int(0, 11)),
  };
}

/** Country-level price level (a draw seeded by the country, shifted by continent), a notch up for megacities. */
function costOf(iso2: string, continent: string, pop: number, r: Random): CostLevel {
  const lean = continent === "EU" || continent === "OC" ? 0.8 : continent === "NA" ? 0.5 : 0;
  const level = countryDraw(iso2, "cost") * 2 + lean + (pop > 5_000_000 ? 0.5 : 0) + 0.3 * (r.next() - 0.5);
  return level < 0.9 ? 1 : level < 1.8 ? 2 : 3;
}

function countryDraw(iso2: string, what: string): number {
  return seededHash(CATALOGUE_SEED, `${iso2}:${what}`) / 4294967296;
}

/** Countries whose cities all lie within a few degrees of each other: islands and small coastal states, mostly. */
function compactCountries(all: City[]): Set<string> {
  const box = new Map<string, [number, number, number, number]>();
  for (const c of all) {
    const b = box.get(c.iso2);
    if (!b) box.set(c.iso2, [c.lat, c.lat, c.lng, c.lng]);
    else box.set(c.iso2, [Math.min(b[0], c.lat), Math.max(b[1], c.lat), Math.min(b[2], c.lng), Math.max(b[3], c.lng)]);
  }
  return new Set([...box].filter(([, b]) => b[1] - b[0] < 3 && b[3] - b[2] < 3).map(([k]) => k));
}

function slug(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
}

function uniqueId(ids: Set<string>, base: string): string {
  let id = base;
  for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
  ids.add(id);
  return id;
}
