import { MatchScoringService, type MatchContext } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import type { AreaDeps, AreaFactory } from "../runtime/area.js";
import { MODELS, ServingSlot } from "../registry/index.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { DynamicBatcher } from "../runtime/batcher.js";
import { haversineKm } from "../numeric/geography.js";
import { FEATURE_COUNT, pairFeatures, type MatchContextInput, type ProfileFeatures } from "./features/pair-features.js";
import { TEXT_BUCKETS, vectorize } from "./features/text-vectors.js";
import { LruCache } from "../runtime/lru.js";
import { INTERESTS, INTEREST_WORDS } from "../travellers/index.js";
import { ProfileCache } from "./profile-cache.js";
import { factorsOf, matchReasons } from "./reasons.js";
import { abSplit, ModelRouter } from "./model-router.js";
import { loadPinnedModel, loadServingModel, type LoadedModel } from "./serving-model.js";
import { bestOf } from "./best-of.js";
import { loadIdf, nearbyTravellers, toProfile } from "./store/profiles.js";

const MODEL_LABEL = MODELS.match;

/**
 * MatchScoring: profiles from PostgreSQL through two cache levels, features
 * computed per pair, and the serving model (v1 in ONNX, or v0) run in
 * batches. A promotion announced on Redis swaps in the new version after it
 * has been loaded and warmed; requests in flight finish on the old one.
 */
export const matchArea: AreaFactory = async (deps) => {
  const { matchBatchMax, matchBatchWaitMs, matchPredictionCacheTtlMs } = deps.config;
  // Never empty: with no promoted version in the registry it serves v0.
  const serving = await ServingSlot.open<LoadedModel>({
    model: MODELS.match,
    title: "match",
    load: () => loadServingModel(deps.db.sql, deps.metrics),
    redisUrl: deps.config.redisUrl,
    redisPrefix: deps.config.redisPrefix,
  });
  const idf = (await loadIdf(deps.db.sql)) ?? new Float32Array(TEXT_BUCKETS).fill(1);
  const profiles = new ProfileCache(deps.db.sql, deps.redis, deps.metrics, deps.config.redisPrefix);
  const predictions = new LruCache<Prediction>(100_000, matchPredictionCacheTtlMs);
  const m = deps.metrics;
  // Metric children looked up once, not per request.
  const executions = m.modelExecutions.labels(MODEL_LABEL);
  const batchSizes = m.batchSize.labels(MODEL_LABEL);
  const queueTimes = m.batchQueueSeconds.labels(MODEL_LABEL);
  const computeTimes = m.batchComputeSeconds.labels(MODEL_LABEL);
  const batchers = new WeakMap<LoadedModel, DynamicBatcher<Pair, ScoredPair>>();
  // One batcher per model: a batch is scored by the version its requests were routed to (A/B, or before and after a swap).
  const batcherFor = (model: LoadedModel) => {
    let b = batchers.get(model);
    if (!b) {
      b = new DynamicBatcher<Pair, ScoredPair>({
        maxBatch: matchBatchMax,
        maxWaitMs: matchBatchWaitMs,
        // Features are written straight into the batch's input: one typed array per batch, not per request.
        run: async (pairs) => {
          const x = new Float32Array(pairs.length * FEATURE_COUNT);
          for (let i = 0; i < pairs.length; i++) pairFeatures(pairs[i].a, pairs[i].b, pairs[i].context, x, i * FEATURE_COUNT);
          executions.inc();
          const scores = await model.score(x, pairs.length);
          return pairs.map((_, i) => ({ score: scores[i], features: x, offset: i * FEATURE_COUNT }));
        },
        observe: ({ size, queueSeconds, computeSeconds }) => {
          batchSizes.observe(size);
          for (const q of queueSeconds) queueTimes.observe(q);
          computeTimes.observe(computeSeconds);
        },
      });
      batchers.set(model, b);
    }
    return b;
  };

  // A/B: pinned registry versions beside the serving one, users split by a stable hash of their id.
  const pinned: LoadedModel[] = [];
  const arms: { model: LoadedModel | "serving"; weight: number }[] = [];
  for (const arm of abSplit(MODEL_LABEL, deps.config.modelAbWeights) ?? []) {
    if (arm.version === "serving") {
      arms.push({ model: "serving", weight: arm.weight });
      continue;
    }
    const loaded = await loadPinnedModel(deps.db.sql, deps.metrics, arm.version);
    if (!loaded) {
      log.error("A/B arm names a match version the registry does not have: its share goes to the other arms", { version: arm.version });
      continue;
    }
    pinned.push(loaded);
    arms.push({ model: loaded, weight: arm.weight });
  }
  if (arms.length) log.info("match A/B split", { arms: arms.map((a) => ({ version: a.model === "serving" ? "serving" : a.model.version, weight: a.weight })) });
  const router = new ModelRouter(() => serving.current!, arms);

  // Changed profiles are announced by PostgreSQL (promotions on Redis, see ServingSlot); neither is needed to serve.
  const changes = await onRowChanges(deps.db, "travellers", (id) => profiles.forget(id));

  const impl = matchService(deps, {
    router,
    idf,
    profiles,
    predictions,
    batcherFor,
  });
  return {
    service: MatchScoringService,
    impl,
    close: async () => {
      await serving.close();
      await changes.close();
      for (const p of pinned) await p.release();
    },
  };
};

interface Parts {
  router: ModelRouter;
  idf: Float32Array;
  profiles: ProfileCache;
  predictions: LruCache<Prediction>;
  batcherFor: (model: LoadedModel) => DynamicBatcher<Pair, ScoredPair>;
}

/** A cached answer for a pair: the score and the factors that explain it. */
interface Prediction {
  score: number;
  factors: ReturnType<typeof factorsOf>;
}

/** A pair to score in a batch, and its score beside the feature row it was computed from. */
interface Pair {
  a: ProfileFeatures;
  b: ProfileFeatures;
  context: MatchContextInput | undefined;
}
interface ScoredPair {
  score: number;
  features: Float32Array;
  offset: number;
}

function matchService(deps: AreaDeps, parts: Parts): ServiceImpl<typeof MatchScoringService> {
  const { metrics } = deps;

  async function requireProfiles(ids: readonly string[]): Promise<Map<string, ProfileFeatures>> {
    const found = await parts.profiles.get(ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) {
      throw MeshError.notFound(`traveller${missing.length > 1 ? "s" : ""} not found: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""}`);
    }
    return found;
  }

  // Metric children looked up once: a label lookup per call is measurable at these rates.
  const requests = metrics.inferenceRequests.labels(MODEL_LABEL);
  const duration = metrics.inferenceDuration.labels(MODEL_LABEL);
  const errors = metrics.inferenceErrors.labels(MODEL_LABEL);
  const predictionHits = metrics.cacheHits.labels("match_prediction");
  const predictionMisses = metrics.cacheMisses.labels("match_prediction");
  const executions = metrics.modelExecutions.labels(MODEL_LABEL);
  const batchSizes = metrics.batchSize.labels(MODEL_LABEL);

  /** One traveller against many, in one model run: the feature rows and their scores. */
  async function scoreAgainst(model: LoadedModel, me: ProfileFeatures, others: readonly ProfileFeatures[], context: MatchContextInput | undefined) {
    const n = others.length;
    const x = new Float32Array(Math.max(1, n) * FEATURE_COUNT);
    others.forEach((other, i) => pairFeatures(me, other, context, x, i * FEATURE_COUNT));
    if (n === 0) return { x, scores: new Float32Array(0) };
    executions.inc();
    batchSizes.observe(n);
    return { x, scores: await model.score(x, n) };
  }

  const perVersion = new Map<string, { inc(): void }>();
  /** Requests per model version, so the arms of an A/B split can be compared. */
  function answeredBy(model: LoadedModel): LoadedModel {
    let c = perVersion.get(model.version);
    if (!c) perVersion.set(model.version, (c = metrics.modelVersionRequests.labels(MODEL_LABEL, model.version)));
    c.inc();
    return model;
  }

  function track<T>(fn: () => Promise<T>): Promise<T> {
    requests.inc();
    const started = performance.now();
    return fn().then(
      (v) => {
        duration.observe((performance.now() - started) / 1000);
        return v;
      },
      (e) => {
        duration.observe((performance.now() - started) / 1000);
        if (!(e instanceof MeshError)) errors.inc();
        throw e;
      },
    );
  }

  return {
    scoreMatch: (req) =>
      track(async () => {
        const started = performance.now();
        // The smaller id picks the arm, so score(a, b) and score(b, a) come from the same version.
        const model = answeredBy(parts.router.pick(req.userAId < req.userBId ? req.userAId : req.userBId));
        const ps = await requireProfiles([req.userAId, req.userBId]);
        const a = ps.get(req.userAId)!;
        const b = ps.get(req.userBId)!;
        const context = contextOf(req.context);
        // Pair key in sorted order: the score is symmetric, so (a, b) and (b, a) share it. Each profile's
        // generation is in it: a changed profile is reloaded as a new object, and its pairs' answers miss.
        const key = parts.predictions.enabled
          ? `${model.version}|${a.id < b.id ? `${a.id}@${generationOf(a)}|${b.id}@${generationOf(b)}` : `${b.id}@${generationOf(b)}|${a.id}@${generationOf(a)}`}|${contextKey(req.context)}`
          : undefined;
        let prediction = key === undefined ? undefined : parts.predictions.get(key);
        if (prediction === undefined) {
          if (key !== undefined) predictionMisses.inc();
          const scored = await parts.batcherFor(model).submit({ a, b, context });
          prediction = { score: scored.score, factors: factorsOf(scored.features, scored.offset, model.weights) };
          if (key !== undefined) parts.predictions.set(key, prediction);
        } else {
          predictionHits.inc();
        }
        const score = prediction.score;
        return {
          score,
          scorePercent: percentOf(score),
          confidence: confidenceOf(score),
          factors: prediction.factors,
          modelVersion: model.version,
          latencyMs: performance.now() - started,
        };
      }),

    scoreCandidates: (req) =>
      track(async () => {
        const started = performance.now();
        const model = answeredBy(parts.router.pick(req.userId));
        const ps = await requireProfiles([req.userId, ...req.candidateIds]);
        const me = ps.get(req.userId)!;
        const context = contextOf(req.context);
        const n = req.candidateIds.length;
        const { x, scores } = await scoreAgainst(model, me, req.candidateIds.map((id) => ps.get(id)!), context);
        const ranked = bestOf(scores, req.limit || n).map((i) => ({ id: req.candidateIds[i], i, score: scores[i] }));
        return {
          candidates: ranked.map((r) => ({
            userId: r.id,
            score: r.score,
            scorePercent: percentOf(r.score),
            confidence: confidenceOf(r.score),
            factors: factorsOf(x, r.i * FEATURE_COUNT, model.weights),
          })),
          modelVersion: model.version,
          latencyMs: performance.now() - started,
        };
      }),

    searchMatches: (req) =>
      track(async () => {
        const started = performance.now();
        const model = answeredBy(parts.router.pick(req.userId || undefined));
        const km = req.maxDistanceKm || 50;
        const [minAge, maxAge] = req.ageRangeYears.length === 2 ? req.ageRangeYears : [18, 120];
        let searcher: ProfileFeatures;
        if (req.userId) {
          searcher = (await requireProfiles([req.userId])).get(req.userId)!;
          if (req.prompt) searcher = { ...searcher, prompt: vectorize(req.prompt, parts.idf) };
        } else {
          searcher = promptProfile(req.prompt, req.latitude!, req.longitude!, minAge, maxAge, parts.idf);
        }
        const latitude = req.latitude ?? searcher.latitude;
        const longitude = req.longitude ?? searcher.longitude;
        const found = (await nearbyTravellers(deps.db.sql, { latitude, longitude, km, minAge, maxAge, limit: 1000, exclude: req.userId || undefined })).filter(
          (c) => haversineKm(latitude, longitude, c.row.latitude, c.row.longitude) <= km,
        );
        const rows = found.map((c) => c.row);
        const profiles = found.map((c) => c.profile);
        const context: MatchContextInput = { interests: interestsIn(req.prompt) };
        const n = profiles.length;
        const { x, scores } = await scoreAgainst(model, searcher, profiles, context);
        const top = bestOf(scores, req.limit || 10).map((i) => ({ i, row: rows[i], p: profiles[i], score: scores[i] }));
        return {
          matches: top.map((t) => {
            const row = t.row;
            return {
              userId: t.p.id,
              displayName: row.display_name,
              age: row.age,
              distanceKm: Math.round(haversineKm(latitude, longitude, row.latitude, row.longitude) * 10) / 10,
              interests: row.interests,
              bio: row.bio,
              travelStyle: row.travel_style,
              matchScore: percentOf(t.score),
              factors: factorsOf(x, t.i * FEATURE_COUNT, model.weights),
              matchReasons: matchReasons(x, t.i * FEATURE_COUNT, model, searcher, t.p),
            };
          }),
          candidatesConsidered: n,
          modelVersion: model.version,
          latencyMs: performance.now() - started,
        };
      }),
  };
}

const generations = new WeakMap<ProfileFeatures, number>();
let lastGeneration = 0;

/** A number for this profile object: the profile cache holds one object per traveller until it changes. */
function generationOf(p: ProfileFeatures): number {
  let g = generations.get(p);
  if (g === undefined) generations.set(p, (g = ++lastGeneration));
  return g;
}

/** A [0, 1] score on the predecessor's 0 to 100 scale, to one decimal. */
function percentOf(score: number): number {
  return Math.round(score * 1000) / 10;
}

/** Distance from a coin flip: 0.5 when the model cannot tell, 1 when it is sure. */
function confidenceOf(p: number): number {
  return 0.5 + Math.abs(p - 0.5);
}

function contextOf(c: MatchContext | undefined): MatchContextInput | undefined {
  if (!c) return undefined;
  const [from, to] = c.dates ? c.dates.split("/") : [];
  const day = (s: string | undefined) => (s ? Math.floor(Date.parse(s + "T00:00:00Z") / 86_400_000) : undefined);
  return { destination: c.destination || undefined, startDay: day(from), endDay: day(to ?? from), interests: c.interests };
}

function contextKey(c: MatchContext | undefined): string {
  return c ? `${c.destination}|${c.dates}|${[...c.interests].sort().join(",")}` : "";
}

/** The interests a free-text prompt mentions, by name or by the words travellers use for them. */
function interestsIn(prompt: string): string[] {
  const text = prompt.toLowerCase();
  return INTERESTS.filter((i) => text.includes(i) || INTEREST_WORDS[i].some((w) => text.includes(w.toLowerCase())));
}

/** Without a searcher profile, the prompt, place and age range stand for one. */
function promptProfile(prompt: string, latitude: number, longitude: number, minAge: number, maxAge: number, idf: Float32Array): ProfileFeatures {
  const interests = interestsIn(prompt);
  const vector = vectorize(prompt, idf);
  let mask = 0;
  for (const i of interests) mask |= 1 << INTERESTS.indexOf(i as (typeof INTERESTS)[number]);
  return {
    id: "prompt",
    age: Math.round((minAge + Math.min(maxAge, 80)) / 2),
    minAcceptedAge: minAge,
    maxAcceptedAge: maxAge,
    latitude,
    longitude,
    interests: mask,
    needs: 0,
    style: -1,
    outgoing: 0.5,
    bio: vector,
    prompt: vector,
    document: vector,
    trips: [],
  };
}
