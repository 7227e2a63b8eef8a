import { INTERESTS, POPULATION_EPOCH_DAY, type PopulationMember } from "../travellers/index.js";
import { Random } from "../numeric/random.js";
import type { Destination } from "./catalogue.js";
import { seededHash } from "../numeric/hash.js";

export const INTERACTION_KINDS = ["viewed", "saved", "booked"] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

/** How much each kind says about taste: a booking costs money, a view costs a tap. */
export const STRENGTH: Record<InteractionKind, number> = { viewed: 1, saved: 3, booked: 6 };

export interface DestinationInteraction {
  userId: string;
  /** Index into the catalogue. */
  destination: number;
  kind: InteractionKind;
  /** Days since 1970-01-01. */
  day: number;
}

/** The synthetic year of browsing: events fall between these days (days since 1970-01-01). */
export const BROWSING_START_DAY = POPULATION_EPOCH_DAY - 365;
const BROWSING_DAYS = 330;
/** Share of views saved whatever the utility: a stray tap, a place saved for someone else. */
const LABEL_NOISE = 0.03;
const SAVE_AT = 3.6;
const BOOK_AT = 3.9;

/**
 * Synthetic browsing, saving and booking. Each traveller meets candidates
 * the way an app shows them (half from searches on a taste, half from what
 * is popular) and engages with those whose hidden utility is high. The
 * utility is not the model's prior (declared interests × tags): it reads the
 * traveller's latent taste (declared interests are a noisy readout of it)
 * through the place's tags nonlinearly (its best-matching tag counts
 * squared), a vibe of places that no tag names (latent on both sides), what
 * the place costs against the traveller's hidden spend, and the place's appeal
 * (size plus a buzz nobody observes). It drifts over the year: taste leans
 * toward each traveller's hidden drift and each place's buzz rises or fades,
 * so the later months are not the earlier ones. A few saves are noise.
 * Models only ever see the resulting events.
 */
export function* generateDestinationInteractions(
  members: readonly PopulationMember[],
  catalogue: readonly Destination[],
  options: { seed: number },
): Generator<DestinationInteraction> {
  const world = destinationWorld(catalogue, options.seed);
  for (let i = 0; i < members.length; i++)
    yield* travellerEvents(members[i], world, new Random(seededHash(options.seed, members[i].traveller.id)));
}

/** The hidden side of the catalogue for one seed: what the truth reads and no model sees. */
export interface DestinationWorld {
  catalogue: readonly Destination[];
  /** Tag indicators scaled to unit length, n × |INTERESTS|. */
  tagVectors: Float64Array;
  appeal: Float64Array;
  /** How each place's buzz moves over the year (per year of drift). */
  trend: Float64Array;
  /** Each place's vibe, n × 4. */
  vibes: Float64Array;
  /** Cumulative exp(appeal), for drawing by popularity. */
  cumulative: Float64Array;
  byTag: number[][];
}

export function destinationWorld(catalogue: readonly Destination[], seed: number): DestinationWorld {
  const p = INTERESTS.length;
  const tagVectors = new Float64Array(catalogue.length * p);
  const appeal = new Float64Array(catalogue.length);
  const trend = new Float64Array(catalogue.length);
  const vibes = new Float64Array(catalogue.length * 4);
  const cumulative = new Float64Array(catalogue.length);
  const byTag: number[][] = INTERESTS.map(() => []);
  let total = 0;
  catalogue.forEach((d, i) => {
    const w = 1 / Math.sqrt(d.tags.length);
    for (const t of d.tags) {
      const k = INTERESTS.indexOf(t);
      tagVectors[i * p + k] = w;
      byTag[k].push(i);
    }
    const hidden = new Random(seededHash(seed, `buzz:${d.id}`));
    appeal[i] = 0.5 * Math.log10(10 + d.population) + 0.6 * hidden.gaussian();
    trend[i] = 0.8 * hidden.gaussian();
    for (let j = 0; j < 4; j++) vibes[i * 4 + j] = hidden.gaussian();
    total += Math.exp(appeal[i]);
    cumulative[i] = total;
  });
  return { catalogue, tagVectors, appeal, trend, vibes, cumulative, byTag };
}

/** How far through the synthetic year a day is, 0 to 1: what the drift follows. */
function driftAt(day: number): number {
  return Math.min(1, Math.max(0, (day - BROWSING_START_DAY) / BROWSING_DAYS));
}

/** The traveller's hidden utility of place i on a day, without the moment's noise. */
export function expectedUtility(m: PopulationMember, world: DestinationWorld, i: number, day: number): number {
  const p = INTERESTS.length;
  const { taste, tasteDrift, vibe, spend, pickiness } = m.latent;
  const drift = driftAt(day);
  let fit = 0;
  let peak = 0;
  for (let k = 0; k < p; k++) {
    const tag = world.tagVectors[i * p + k];
    if (tag === 0) continue;
    const t = taste[k] + 0.7 * drift * tasteDrift[k];
    fit += t * tag;
    peak = Math.max(peak, t);
  }
  let affinity = 0;
  for (let j = 0; j < 4; j++) affinity += vibe[j] * world.vibes[i * 4 + j];
  const cost = world.catalogue[i].costLevel;
  const overBudget = Math.log1p(Math.exp(2 * (cost - 2 - spend))) / 2;
  const appeal = world.appeal[i] + world.trend[i] * (drift - 0.5);
  return 2 * fit + 2.5 * peak * peak + 0.35 * affinity - 0.6 * overBudget + 0.4 * appeal - 0.5 * pickiness;
}

/**
 * The truth's own log-odds that a traveller saves each place around a day:
 * the chance it is shown to them (the two ways candidates are drawn) times the
 * chance its utility carries a save. Ranking by it is the best any model can
 * do (the oracle of make eval-recommend).
 */
export function oracleScorer(m: PopulationMember, world: DestinationWorld): (i: number, day: number) => number {
  const weights = Array.from(m.latent.taste, (t) => t * t);
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  const perTag = weights.map((w, k) => w / weightTotal / Math.max(1, world.byTag[k].length));
  const popularTotal = world.cumulative[world.cumulative.length - 1];
  const p = INTERESTS.length;
  // A save's chance averaged over the moment's noise (probit approximation of the logistic-normal mean).
  const slope = 3 / Math.sqrt(1 + (Math.PI * 2.25) / 8);
  return (i, day) => {
    let searched = 0;
    for (let k = 0; k < p; k++) if (world.tagVectors[i * p + k] !== 0) searched += perTag[k];
    const popular = Math.exp(world.appeal[i]) / popularTotal;
    const saved = LABEL_NOISE + (1 - LABEL_NOISE) * sigmoid(slope * (expectedUtility(m, world, i, day) - SAVE_AT));
    return Math.log(0.5 * searched + 0.5 * popular) + Math.log(saved);
  };
}

function* travellerEvents(m: PopulationMember, world: DestinationWorld, r: Random): Generator<DestinationInteraction> {
  const { taste, extraversion } = m.latent;
  const tasteWeights = Array.from(taste, (t) => t * t);
  const seen = new Set<number>();
  const candidates: { i: number; day: number; utility: number }[] = [];
  const total = world.cumulative[world.cumulative.length - 1];
  for (let c = 0; c < 60; c++) {
    let i: number;
    if (r.next() < 0.5) {
      const pool = world.byTag[INTERESTS.indexOf(r.sample(INTERESTS, 1, tasteWeights)[0])];
      if (!pool.length) continue;
      i = pool[r.int(0, pool.length - 1)];
    } else i = lowerBound(world.cumulative, r.next() * total);
    if (seen.has(i)) continue;
    seen.add(i);
    const day = BROWSING_START_DAY + r.int(0, BROWSING_DAYS);
    candidates.push({ i, day, utility: expectedUtility(m, world, i, day) + 0.5 * r.gaussian() });
  }
  candidates.sort((a, b) => b.utility - a.utility);
  const views = Math.min(candidates.length, Math.round(4 + 14 * extraversion + 4 * r.next()));
  const events: DestinationInteraction[] = [];
  for (const { i, day, utility } of candidates.slice(0, views)) {
    events.push({ userId: m.traveller.id, destination: i, kind: "viewed", day });
    if (r.next() < LABEL_NOISE || r.next() < sigmoid(3 * (utility - SAVE_AT))) {
      const saved = day + r.int(0, 7);
      events.push({ userId: m.traveller.id, destination: i, kind: "saved", day: saved });
      if (r.next() < sigmoid(3 * (utility - BOOK_AT)))
        events.push({ userId: m.traveller.id, destination: i, kind: "booked", day: saved + r.int(1, 20) });
    }
  }
  yield* events.sort((a, b) => a.day - b.day);
}

function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A traveller's history as the model reads it: each destination once, with the summed strength of what they did there. */
export function historyOf(events: Iterable<{ destination: number; kind: InteractionKind }>): { index: Int32Array; strength: Float32Array } {
  const byDestination = new Map<number, number>();
  for (const e of events) byDestination.set(e.destination, (byDestination.get(e.destination) ?? 0) + STRENGTH[e.kind]);
  const index = Int32Array.from(byDestination.keys());
  return { index, strength: Float32Array.from(index, (i) => byDestination.get(i)!) };
}
