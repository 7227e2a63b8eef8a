import { INTERESTS } from "../travellers/index.js";
import type { Destination } from "./catalogue.js";
import { scoreAll, userVector, type Factorisation } from "./factorisation.js";
import { admits, type TripFilters } from "./filters.js";
import { STRENGTH, type InteractionKind } from "./interactions.js";
import { topK } from "./ranking.js";
import { reasonOf, scoreParts } from "./reasons.js";

/** What a request needs to know about a traveller; plain data so it can be cached as JSON. */
export interface UserState {
  vector: number[];
  interests: number[];
  booked: string[];
  latitude: number;
  longitude: number;
  coldStart: boolean;
}

export interface Recommendation {
  destination: Destination;
  score: number;
  reason: string;
}

/** Accumulates interaction strengths per traveller and destination while rows stream in. */
export class InteractionMatrix {
  readonly byUser = new Map<string, Map<number, number>>();
  count = 0;

  constructor(private readonly indexOf: ReadonlyMap<string, number>) {}

  add(userId: string, destinationId: string, kind: InteractionKind): void {
    const i = this.indexOf.get(destinationId);
    if (i === undefined) return;
    let row = this.byUser.get(userId);
    if (!row) this.byUser.set(userId, (row = new Map()));
    row.set(i, (row.get(i) ?? 0) + STRENGTH[kind]);
    this.count++;
  }
}

/**
 * The trained model and the catalogue it ranks, held in memory. Serving is a
 * dot product of the user vector with every destination vector over
 * Float32Array: 10,000 × 24 multiply-adds take well under a millisecond in
 * plain JavaScript, so an inference runtime (ONNX) would add a copy and a
 * native call for nothing.
 */
export class Recommender {
  readonly indexOf: ReadonlyMap<string, number>;

  constructor(
    readonly catalogue: readonly Destination[],
    readonly model: Factorisation,
    readonly version: string,
  ) {
    this.indexOf = new Map(catalogue.map((d, i) => [d.id, i]));
  }

  userState(traveller: {
    interests: readonly string[];
    latitude: number;
    longitude: number;
    history: readonly { destinationId: string; kind: InteractionKind }[];
  }): UserState {
    const row = new Map<number, number>();
    const booked: string[] = [];
    for (const h of traveller.history) {
      const i = this.indexOf.get(h.destinationId);
      if (i === undefined) continue;
      row.set(i, (row.get(i) ?? 0) + STRENGTH[h.kind]);
      if (h.kind === "booked") booked.push(h.destinationId);
    }
    const interests = interestIndices(traveller.interests);
    const vector = userVector(this.model, interests, { index: Int32Array.from(row.keys()), strength: Float32Array.from(row.values()) });
    return {
      vector: Array.from(vector),
      interests,
      booked: [...new Set(booked)],
      latitude: traveller.latitude,
      longitude: traveller.longitude,
      coldStart: row.size === 0,
    };
  }

  recommend(state: UserState, filters: TripFilters, limit: number): Recommendation[] {
    const user = Float32Array.from(state.vector);
    const scores = scoreAll(this.model, user);
    const traveller = { latitude: state.latitude, longitude: state.longitude, booked: new Set(state.booked) };
    const picked = topK(
      scores,
      limit,
      (i) => admits(this.catalogue[i], filters, traveller),
      (i) => this.catalogue[i].country,
    );
    return picked.map((i) => ({
      destination: this.catalogue[i],
      // The model predicts a preference in [0, 1] (observed = 1, unobserved = 0); clipped, it is the score.
      score: Math.min(1, Math.max(0, scores[i])),
      reason: reasonOf(scoreParts(this.model, user, state.interests, i), this.catalogue[i].tags),
    }));
  }
}

/** Indices of the known interests among words, each once. */
export function interestIndices(words: readonly string[]): number[] {
  const out: number[] = [];
  for (const w of words) {
    const k = (INTERESTS as readonly string[]).indexOf(w);
    if (k >= 0 && !out.includes(k)) out.push(k);
  }
  return out;
}
