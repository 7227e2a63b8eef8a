import { createRequire } from "node:module";
import { seedAt } from "../numeric/hash.js";
import { Random } from "../numeric/random.js";
import { INTERESTS, type Interest } from "./interests.js";
import type { Traveller, Trip } from "./profile.js";
import {
  DESTINATIONS,
  INTEREST_WORDS,
  NEEDS,
  OUTGOING_WORDS,
  PACE_WORDS,
  PLANNING_WORDS,
  RESERVED_WORDS,
  STYLE_WORDS,
  TRAVEL_STYLES,
} from "./vocabulary.js";

/**
 * The hidden side of a traveller that drives who and what they like. The app
 * never sees it (no profile field, no feature reads it); the models have to
 * learn its effects from interactions. The declared profile is only a noisy
 * readout of some of it: interests and bio words of taste, the bio's tone of
 * extraversion, the declared travel style of spend and roughness.
 */
export interface LatentTraits {
  taste: Float64Array;
  extraversion: number;
  pickiness: number;
  /** How much they spend travelling (standardised); the declared style only hints at it. */
  spend: number;
  /** How rough they like it (tents and night buses against hotels), standardised. */
  roughness: number;
  /** log(1 + km) within which a companion still feels near: a per-traveller radius, not a shared curve. */
  reach: number;
  /** Years by which the ages they really accept stretch (or shrink) the declared range. */
  ageSlack: number;
  /** Taste in the unnamed qualities of places (a vibe no tag names), four dimensions. */
  vibe: Float64Array;
  /** Where taste is heading: the later months of the synthetic year lean this way. */
  tasteDrift: Float64Array;
  /** Calm (negative) to lively (positive), standardised; only the bio's wording hints at it. */
  pace: number;
  /** Spontaneous (negative) to planned (positive), standardised; only a prompt answer's wording hints at it. */
  planning: number;
}

export interface PopulationMember {
  traveller: Traveller;
  latent: LatentTraits;
}

interface City {
  name: string;
  lat: number;
  lng: number;
  weight: number;
}

let citiesCache: City[] | undefined;

/** The 300 most populous cities of the city-timezones dataset, weighted by population. */
export function homeCities(): City[] {
  if (citiesCache) return citiesCache;
  const require = createRequire(import.meta.url);
  const raw = require("city-timezones/data/cityMap.json") as { city: string; lat: number; lng: number; pop: number }[];
  citiesCache = [...raw]
    .sort((a, b) => (b.pop ?? 0) - (a.pop ?? 0))
    .slice(0, 300)
    .map((c) => ({ name: c.city, lat: c.lat, lng: c.lng, weight: Math.sqrt(c.pop ?? 1) }));
  return citiesCache;
}

const FIRST_NAMES = [
  "Ana",
  "Ben",
  "Chen",
  "Dara",
  "Eli",
  "Fatima",
  "Gus",
  "Hana",
  "Ivan",
  "Jo",
  "Kai",
  "Lena",
  "Mo",
  "Nia",
  "Omar",
  "Pia",
  "Quinn",
  "Rui",
  "Sara",
  "Tom",
  "Uma",
  "Vik",
  "Wen",
  "Yara",
  "Zoe",
];

/** Day number of "today" for the synthetic world, fixed so that seeds reproduce exactly. */
export const POPULATION_EPOCH_DAY = Math.floor(Date.UTC(2026, 0, 1) / 86_400_000);

/**
 * Generates travellers one at a time (1,000,000 stream straight into COPY),
 * deterministic for a seed: member i depends only on (seed, i).
 */
export function* generatePopulation(options: { count: number; seed: number }): Generator<PopulationMember> {
  const cities = homeCities();
  const cityWeights = cities.map((c) => c.weight);
  for (let i = 0; i < options.count; i++) yield generateMember(new Random(seedAt(options.seed, i)), i, cities, cityWeights, options.seed);
}

/** Spend and roughness each declared style suggests: the traits come first, the label is a coarse readout. */
const STYLE_LEANING: Record<(typeof TRAVEL_STYLES)[number], { spend: number; roughness: number }> = {
  backpacker: { spend: -0.9, roughness: 0.8 },
  budget: { spend: -0.7, roughness: 0 },
  comfort: { spend: 0.3, roughness: -0.6 },
  luxury: { spend: 1.1, roughness: -1 },
  adventure: { spend: 0, roughness: 1.1 },
};

/**
 * Traits no profile field records, drawn from a stream of their own (salted
 * seed) so that adding them left every declared profile, and so every seeded
 * database and every feature, exactly as it was.
 */
function hiddenTraits(
  seed: number,
  serial: number,
  t: Traveller,
): Omit<LatentTraits, "taste" | "extraversion" | "pickiness" | "pace" | "planning"> {
  const r = new Random(seedAt(seed ^ 0x1a7e27, serial));
  const lean = STYLE_LEANING[t.travelStyle];
  const vibe = Float64Array.from({ length: 4 }, () => r.gaussian());
  const tasteDrift = Float64Array.from({ length: INTERESTS.length }, () => Math.max(0, r.gaussian()) * (r.next() < 0.25 ? 1 : 0));
  return {
    spend: lean.spend + 0.7 * r.gaussian(),
    roughness: lean.roughness + 0.7 * r.gaussian(),
    reach: Math.log1p(15 + 400 * r.next() ** 2),
    ageSlack: 2 + 3 * r.gaussian(),
    vibe,
    tasteDrift,
  };
}

/**
 * Pace and planning, and the words that say them: a stream of its own (salted
 * seed), so adding them left every other field and trait as it was; the bio
 * gains one sentence and the prompt answers a third answer. Each word leans
 * with the trait (a lively word with probability sigmoid(2 × pace)), so two
 * words are a noisy readout, never the trait itself.
 */
function voice(seed: number, serial: number): { pace: number; planning: number; paceSentence: string; planningAnswer: string } {
  const r = new Random(seedAt(seed ^ 0x70ce, serial));
  const pace = r.gaussian();
  const planning = r.gaussian();
  const word = (trait: number, negative: readonly string[], positive: readonly string[]) =>
    r.pick(r.next() < 1 / (1 + Math.exp(-2 * trait)) ? positive : negative);
  const paceWords = Array.from({ length: 6 }, () => word(pace, PACE_WORDS.calm, PACE_WORDS.lively));
  const planningWords = Array.from({ length: 5 }, () => word(planning, PLANNING_WORDS.spontaneous, PLANNING_WORDS.planned));
  return {
    pace,
    planning,
    paceSentence: `My pace: ${paceWords.slice(0, -1).join(", ")} and ${paceWords.at(-1)}.`,
    planningAnswer: `Travel rules: ${planningWords.slice(0, -1).join(", ")} and ${planningWords.at(-1)}`,
  };
}

function generateMember(r: Random, serial: number, cities: City[], cityWeights: number[], seed: number): PopulationMember {
  // Taste: a few strong interests over a weak background.
  const taste = new Float64Array(INTERESTS.length);
  for (let k = 0; k < taste.length; k++) taste[k] = 0.1 * r.next();
  for (const k of r.sample(
    INTERESTS.map((_, i) => i),
    r.int(2, 4),
  ))
    taste[k] += 0.5 + r.next();
  const norm = Math.hypot(...taste);
  for (let k = 0; k < taste.length; k++) taste[k] /= norm;
  const extraversion = r.next();
  const pickiness = 0.6 * r.gaussian();

  // Declared interests follow taste, with noise: people under- and over-declare.
  const interests = r.sample(
    INTERESTS,
    r.int(3, 6),
    Array.from(taste, (t) => t * t + 0.01),
  ) as Interest[];
  const needs = r.sample(NEEDS, r.int(1, 3)) as string[];
  const travelStyle = r.pick(TRAVEL_STYLES);
  const age = Math.round(Math.min(72, Math.max(18, 31 + 9 * r.gaussian())));
  const minAcceptedAge = Math.max(18, age - r.int(3, 12));
  const maxAcceptedAge = Math.min(99, age + r.int(3, 15));
  const city = cities[weightedIndex(r, cityWeights)];
  // Homes scatter around the city centre (a few tens of kilometres).
  const latitude = clamp(city.lat + 0.25 * r.gaussian(), -89.9, 89.9);
  const longitude = wrapLongitude(city.lng + (0.25 * r.gaussian()) / Math.max(0.2, Math.cos((city.lat * Math.PI) / 180)));

  const topTastes = Array.from(taste, (t, k) => [t, k] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 3)
    .map(([, k]) => INTERESTS[k]);
  const bio = [
    `I love ${r.pick(INTEREST_WORDS[topTastes[0]])} and ${r.pick(INTEREST_WORDS[topTastes[1]])}.`,
    `Usually travelling with ${r.pick(STYLE_WORDS[travelStyle])}, ${extraversion > 0.5 ? r.pick(OUTGOING_WORDS) : r.pick(RESERVED_WORDS)}.`,
    r.next() < 0.6 ? `Next on my list: ${r.pick(INTEREST_WORDS[topTastes[2]])}.` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const promptAnswers = [
    `Looking for someone into ${r.pick(INTEREST_WORDS[topTastes[0]])}`,
    `Perfect day: ${r.pick(INTEREST_WORDS[r.pick(interests)])} then ${r.pick(INTEREST_WORDS[topTastes[1]])}`,
  ];
  const spoken = voice(seed, serial);
  const trips: Trip[] = [];
  for (let t = r.int(0, 2); t > 0; t--) {
    const startDay = POPULATION_EPOCH_DAY + r.int(0, 180);
    trips.push({ destination: r.pick(DESTINATIONS), startDay, endDay: startDay + r.int(3, 21) });
  }
  const traveller: Traveller = {
    id: r.uuid(serial),
    displayName: `${r.pick(FIRST_NAMES)} ${String.fromCharCode(65 + r.int(0, 25))}.`,
    age,
    minAcceptedAge,
    maxAcceptedAge,
    latitude,
    longitude,
    city: city.name,
    interests,
    needs,
    travelStyle,
    bio: `${bio} ${spoken.paceSentence}`,
    promptAnswers: [...promptAnswers, spoken.planningAnswer],
    trips,
  };
  return {
    traveller,
    latent: { taste, extraversion, pickiness, ...hiddenTraits(seed, serial, traveller), pace: spoken.pace, planning: spoken.planning },
  };
}

function weightedIndex(r: Random, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let x = r.next() * total;
  for (let i = 0; i < weights.length; i++) if ((x -= weights[i]) <= 0) return i;
  return weights.length - 1;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const wrapLongitude = (x: number) => ((((x + 180) % 360) + 360) % 360) - 180;
