import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  GetPrecomputedMatchesRequest,
  MatchContext,
  MatchScoringService,
  ScoreCandidatesRequest,
  ScoreMatchRequest,
  SearchMatchesRequest,
} from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { haversineKm } from "../numeric/geography.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import type { Sql } from "../runtime/storage/database.js";
import { bestOf } from "./best-of.js";
import { FEATURE_COUNT, pairFeatures, type MatchContextInput, type ProfileFeatures } from "./features/pair-features.js";
import { vectorize } from "./features/text-vectors.js";
import type { ModelRouter } from "./model-router.js";
import type { PairBatchers } from "./pair-batchers.js";
import type { Predictions } from "./predictions.js";
import type { ProfileCache } from "./profile-cache.js";
import { interestsIn, promptProfile } from "./prompt.js";
import { factorsOf, matchReasons } from "./reasons.js";
import type { MatchMetrics } from "./rpc-metrics.js";
import type { LoadedModel } from "./serving-model.js";
import { readPrecomputed } from "./store/precomputed.js";
import { nearbyTravellers } from "./store/profiles.js";

/** What the MatchScoring handlers work with, built once by matchArea. */
export interface MatchParts {
  readonly sql: Sql;
  readonly router: ModelRouter;
  readonly idf: Float32Array;
  readonly profiles: ProfileCache;
  readonly predictions: Predictions;
  readonly batchers: PairBatchers;
  readonly metrics: MatchMetrics;
}

/** The MatchScoring RPCs, each counted and timed. */
export function matchHandlers(parts: MatchParts): ServiceImpl<typeof MatchScoringService> {
  const { metrics } = parts;
  return {
    scoreMatch: (req) => metrics.track(() => scoreMatch(parts, req)),
    scoreCandidates: (req) => metrics.track(() => scoreCandidates(parts, req)),
    searchMatches: (req) => metrics.track(() => searchMatches(parts, req)),
    getPrecomputedMatches: (req) => metrics.track(() => getPrecomputedMatches(parts, req)),
  };
}

/** One pair, batched with the pairs that arrive with it, from the prediction cache when it can. */
async function scoreMatch(parts: MatchParts, req: ScoreMatchRequest) {
  const started = performance.now();
  // The smaller id picks the arm, so score(a, b) and score(b, a) come from the same version.
  // biome-ignore lint/complexity/useMathMinMax: ids are strings; Math.min would compare them as numbers
  const model = parts.metrics.answeredBy(parts.router.pick(req.userAId < req.userBId ? req.userAId : req.userBId));
  const ps = await requireProfiles(parts, [req.userAId, req.userBId]);
  const a = ps.get(req.userAId)!;
  const b = ps.get(req.userBId)!;
  const key = parts.predictions.keyOf(model, a, b, req.context);
  let prediction = key === undefined ? undefined : parts.predictions.get(key);
  if (prediction === undefined) {
    if (key !== undefined) parts.metrics.predictionMisses.inc();
    const scored = await parts.batchers.score(model, { a, b, context: contextOf(req.context) });
    prediction = { score: scored.score, factors: factorsOf(scored.features, scored.offset, model.weights) };
    if (key !== undefined) parts.predictions.set(key, prediction);
  } else {
    parts.metrics.predictionHits.inc();
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
}

/** One traveller against the candidates given, best first. */
async function scoreCandidates(parts: MatchParts, req: ScoreCandidatesRequest) {
  const started = performance.now();
  const model = parts.metrics.answeredBy(parts.router.pick(req.userId));
  const ps = await requireProfiles(parts, [req.userId, ...req.candidateIds]);
  const me = ps.get(req.userId)!;
  const n = req.candidateIds.length;
  const { x, scores } = await scoreAgainst(
    parts,
    model,
    me,
    req.candidateIds.map((id) => ps.get(id)!),
    contextOf(req.context),
  );
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
}

/** The travellers near a place (a traveller's own, or one given with a prompt) that score best against the searcher. */
async function searchMatches(parts: MatchParts, req: SearchMatchesRequest) {
  const started = performance.now();
  const model = parts.metrics.answeredBy(parts.router.pick(req.userId || undefined));
  const km = req.maxDistanceKm || 50;
  const [minAge, maxAge] = req.ageRangeYears.length === 2 ? req.ageRangeYears : [18, 120];
  const searcher = await searcherOf(parts, req, minAge, maxAge);
  const latitude = req.latitude ?? searcher.latitude;
  const longitude = req.longitude ?? searcher.longitude;
  const found = (
    await nearbyTravellers(parts.sql, { latitude, longitude, km, minAge, maxAge, limit: 1000, exclude: req.userId || undefined })
  ).filter((c) => haversineKm(latitude, longitude, c.row.latitude, c.row.longitude) <= km);
  const profiles = found.map((c) => c.profile);
  const { x, scores } = await scoreAgainst(parts, model, searcher, profiles, { interests: interestsIn(req.prompt) });
  const top = bestOf(scores, req.limit || 10).map((i) => ({ i, row: found[i].row, p: profiles[i], score: scores[i] }));
  return {
    matches: top.map(({ i, row, p, score }) => ({
      userId: p.id,
      displayName: row.display_name,
      age: row.age,
      ...roundedDistance(haversineKm(latitude, longitude, row.latitude, row.longitude)),
      interests: row.interests,
      travelStyle: row.travel_style,
      matchScore: percentOf(score),
      factors: factorsOf(x, i * FEATURE_COUNT, model.weights),
      matchReasons: matchReasons(x, i * FEATURE_COUNT, model, searcher, p),
    })),
    candidatesConsidered: profiles.length,
    modelVersion: model.version,
    latencyMs: performance.now() - started,
  };
}

/** A traveller's feed as the score_candidates job stored it: a read, no model run. */
async function getPrecomputedMatches(parts: MatchParts, req: GetPrecomputedMatchesRequest) {
  // An unreachable database is an outage the pipeline answers UNAVAILABLE.
  const row = await readPrecomputed(parts.sql, req.userId);
  if (!row) throw MeshError.notFound(`no precomputed matches for traveller ${req.userId}: run the score_candidates job`);
  const matches = req.limit ? row.matches.slice(0, req.limit) : row.matches;
  return {
    userId: req.userId,
    matches: matches.map((m) => ({ userId: m.user_id, score: m.score, scorePercent: percentOf(m.score) })),
    candidatesConsidered: row.candidatesConsidered,
    modelVersion: row.modelVersion,
    computedAt: timestampFromDate(row.computedAt),
  };
}

/**
 * A distance as a search answers it: whole kilometres, and nearer than 1 km
 * only as such, so that answers to searches from a few nearby centres cannot
 * pin down where someone lives.
 */
export function roundedDistance(km: number): { distanceKm: number; within1Km: boolean } {
  return km < 1 ? { distanceKm: 0, within1Km: true } : { distanceKm: Math.round(km), within1Km: false };
}

/** Who searches: a traveller (their prompt, if given, standing for their own), or a prompt alone. */
async function searcherOf(parts: MatchParts, req: SearchMatchesRequest, minAge: number, maxAge: number): Promise<ProfileFeatures> {
  if (!req.userId) return promptProfile(req.prompt, req.latitude!, req.longitude!, minAge, maxAge, parts.idf);
  const searcher = (await requireProfiles(parts, [req.userId])).get(req.userId)!;
  return req.prompt ? { ...searcher, prompt: vectorize(req.prompt, parts.idf) } : searcher;
}

async function requireProfiles(parts: MatchParts, ids: readonly string[]): Promise<Map<string, ProfileFeatures>> {
  const found = await parts.profiles.get(ids);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) {
    throw MeshError.notFound(
      `traveller${missing.length > 1 ? "s" : ""} not found: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""}`,
    );
  }
  return found;
}

/** One traveller against many, in one model run: the feature rows and their scores. */
async function scoreAgainst(
  parts: MatchParts,
  model: LoadedModel,
  me: ProfileFeatures,
  others: readonly ProfileFeatures[],
  context: MatchContextInput | undefined,
) {
  const n = others.length;
  const x = new Float32Array(Math.max(1, n) * FEATURE_COUNT);
  others.forEach((other, i) => {
    pairFeatures(me, other, context, x, i * FEATURE_COUNT);
  });
  if (n === 0) return { x, scores: new Float32Array(0) };
  parts.metrics.executions.inc();
  parts.metrics.batchSizes.observe(n);
  return { x, scores: await model.score(x, n) };
}

/** A [0, 1] score on the predecessor's 0 to 100 scale, to one decimal. */
function percentOf(score: number): number {
  return Math.round(score * 1000) / 10;
}

/** Distance from a coin flip: 0.5 when the model cannot tell, 1 when it is sure. */
function confidenceOf(p: number): number {
  return 0.5 + Math.abs(p - 0.5);
}

/** The request's trip context as the features read it. */
function contextOf(c: MatchContext | undefined): MatchContextInput | undefined {
  if (!c) return undefined;
  const [from, to] = c.dates ? c.dates.split("/") : [];
  const day = (s: string | undefined) => (s ? Math.floor(Date.parse(`${s}T00:00:00Z`) / 86_400_000) : undefined);
  return { destination: c.destination || undefined, startDay: day(from), endDay: day(to ?? from), interests: c.interests };
}
