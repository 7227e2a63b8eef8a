import type { MatchContext } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { LruCache } from "../runtime/lru.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import type { factorsOf } from "./reasons.js";
import type { LoadedModel } from "./serving-model.js";

/** A cached answer for a pair: the score and the factors that explain it. */
export interface Prediction {
  score: number;
  factors: ReturnType<typeof factorsOf>;
}

/**
 * ScoreMatch answers kept in process for MATCH_PREDICTION_CACHE_TTL_MS (0:
 * nothing is kept), under the model version, the pair and the request's context.
 */
export class Predictions {
  private readonly cache: LruCache<Prediction>;

  constructor(ttlMs: number) {
    this.cache = new LruCache<Prediction>(100_000, ttlMs);
  }

  /**
   * The key of a pair's answer, or undefined when nothing is kept. The pair is
   * in sorted order: the score is symmetric, so (a, b) and (b, a) share it.
   * Each profile's version is in it: a changed profile is reloaded as a new
   * object (or under a new store revision), and its pairs' answers miss.
   */
  keyOf(model: LoadedModel, a: ProfileFeatures, b: ProfileFeatures, context: MatchContext | undefined): string | undefined {
    if (!this.cache.enabled) return undefined;
    const pair = a.id < b.id ? `${a.id}@${versionOf(a)}|${b.id}@${versionOf(b)}` : `${b.id}@${versionOf(b)}|${a.id}@${versionOf(a)}`;
    return `${model.version}|${pair}|${contextKey(context)}`;
  }

  get(key: string): Prediction | undefined {
    return this.cache.get(key);
  }

  set(key: string, prediction: Prediction): void {
    this.cache.set(key, prediction);
  }
}

/** The store's revision (r…) or the object's generation (g…): two numberings, kept apart. */
function versionOf(p: ProfileFeatures): string {
  return p.revision === undefined ? `g${generationOf(p)}` : `r${p.revision}`;
}

const generations = new WeakMap<ProfileFeatures, number>();
let lastGeneration = 0;

/** A number for this profile object: the profile cache holds one object per traveller until it changes. */
function generationOf(p: ProfileFeatures): number {
  let g = generations.get(p);
  if (g === undefined) generations.set(p, (g = ++lastGeneration));
  return g;
}

function contextKey(c: MatchContext | undefined): string {
  return c ? `${c.destination}|${c.dates}|${[...c.interests].sort().join(",")}` : "";
}
