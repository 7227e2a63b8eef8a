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

/**
 * Synthetic browsing, saving and booking. Each traveller meets candidates
 * the way an app shows them (half from searches on a taste, half from what
 * is popular) and engages with those whose hidden utility is high: their
 * latent taste against the place's tags, a nudge from declared interests,
 * the place's own appeal (size plus a buzz nobody observes), and noise.
 * Models only ever see the resulting events.
 */
export function* generateDestinationInteractions(
  members: readonly PopulationMember[],
  catalogue: readonly Destination[],
  options: { seed: number },
): Generator<DestinationInteraction> {
  const world = worldOf(catalogue, options.seed);
  for (let i = 0; i < members.length; i++)
    yield* travellerEvents(members[i], world, new Random(seededHash(options.seed, members[i].traveller.id)));
}

interface World {
  catalogue: readonly Destination[];
  /** Tag indicators scaled to unit length, n × |INTERESTS|. */
  tagVectors: Float64Array;
  appeal: Float64Array;
  /** Cumulative exp(appeal), for drawing by popularity. */
  cumulative: Float64Array;
  byTag: number[][];
}

function worldOf(catalogue: readonly Destination[], seed: number): World {
  const p = INTERESTS.length;
  const tagVectors = new Float64Array(catalogue.length * p);
  const appeal = new Float64Array(catalogue.length);
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
    const buzz = new Random(seededHash(seed, `buzz:${d.id}`)).gaussian();
    appeal[i] = 0.5 * Math.log10(10 + d.population) + 0.6 * buzz;
    total += Math.exp(appeal[i]);
    cumulative[i] = total;
  });
  return { catalogue, tagVectors, appeal, cumulative, byTag };
}

function* travellerEvents(m: PopulationMember, world: World, r: Random): Generator<DestinationInteraction> {
  const p = INTERESTS.length;
  const { taste, extraversion, pickiness } = m.latent;
  const declared = new Set(m.traveller.interests);
  const tasteWeights = Array.from(taste, (t) => t * t);
  const seen = new Set<number>();
  const candidates: { i: number; utility: number }[] = [];
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
    let fit = 0;
    for (let k = 0; k < p; k++) fit += taste[k] * world.tagVectors[i * p + k];
    const overlap = world.catalogue[i].tags.filter((t) => declared.has(t)).length / world.catalogue[i].tags.length;
    candidates.push({ i, utility: 4 * fit + 0.5 * overlap + 0.4 * world.appeal[i] + 0.5 * r.gaussian() - 0.5 * pickiness });
  }
  candidates.sort((a, b) => b.utility - a.utility);
  const views = Math.min(candidates.length, Math.round(4 + 14 * extraversion + 4 * r.next()));
  const start = POPULATION_EPOCH_DAY - 365;
  const events: DestinationInteraction[] = [];
  for (const { i, utility } of candidates.slice(0, views)) {
    const day = start + r.int(0, 330);
    events.push({ userId: m.traveller.id, destination: i, kind: "viewed", day });
    if (r.next() < sigmoid(3 * (utility - 4.3))) {
      const saved = day + r.int(0, 7);
      events.push({ userId: m.traveller.id, destination: i, kind: "saved", day: saved });
      if (r.next() < sigmoid(3 * (utility - 4.5)))
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
