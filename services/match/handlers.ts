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
import type { MatchContextInput, ProfileFeatures } from "./features/pair-features.js";
import { vectorize } from "./features/text-vectors.js";
import type { ModelRouter } from "./model-router.js";
import type { PairBatchers } from "./pair-batchers.js";
import type { Predictions } from "./predictions.js";
import type { ProfileCache } from "./profile-cache.js";
import { searcherProfile } from "./prompt.js";
import type { PromptReader } from "./prompt/read.js";
import { factorsOf, matchReasons } from "./reasons.js";
import { planSearch } from "./search-plan.js";
import { rankOrder, ranksByText, relevanceOf } from "./search-ranking.js";
import { searchCandidates, withRows } from "./search-candidates.js";
import { promptReasons } from "./search-reasons.js";
import type { MatchMetrics } from "./rpc-metrics.js";
import type { LoadedModel } from "./serving-model.js";
import { readPrecomputed } from "./store/precomputed.js";

/** What the MatchScoring handlers work with, built once by matchArea. */
export interface MatchParts {
  readonly sql: Sql;
  readonly router: ModelRouter;
  readonly idf: Float32Array;
  /** Reads prompts (interests, ages, places) and holds the word vectors. */
  readonly reader: PromptReader;
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
      factors: factorsOf(x, r.i * model.features.count, model.weights),
    })),
    modelVersion: model.version,
    latencyMs: performance.now() - started,
  };
}

/**
 * The travellers near a place that a prompt asks for, best first. The prompt
 * is read (interests, ages, a place, a radius; the request's own fields win),
 * the geo prefilter finds the nearest 1,000 inside the radius and age range,
 * and they are ranked in process: relevance to the prompt first, then the
 * model's score against the searcher (a traveller, or the prompt standing
 * for one).
 */
async function searchMatches(parts: MatchParts, req: SearchMatchesRequest) {
  const started = performance.now();
  const model = parts.metrics.answeredBy(parts.router.pick(req.userId || undefined));
  const read = req.prompt ? parts.reader.read(req.prompt) : undefined;
  const me = req.userId ? (await requireProfiles(parts, [req.userId])).get(req.userId)! : undefined;
  const plan = planSearch(req, read, me, parts.reader.vectors);
  const { latitude, longitude, km, minAge, maxAge } = plan;
  const searcher = me
    ? req.prompt
      ? { ...me, prompt: vectorize(req.prompt, parts.idf) }
      : me
    : searcherProfile(req.prompt, latitude, longitude, minAge, maxAge, parts.idf, plan.intent.asked);
  const found = await searchCandidates(
    parts.sql,
    parts.profiles,
    { latitude, longitude, km, minAge, maxAge, limit: 1000, exclude: req.userId || undefined },
    ranksByText(plan.intent),
  );
  const profiles = found.map((c) => c.profile);
  const asked = read?.interests.map((m) => m.interest) ?? [];
  const { x, scores } = await scoreAgainst(parts, model, searcher, profiles, asked.length ? { interests: asked } : undefined);
  const order = rankOrder(plan.intent, profiles, scores, req.limit || 10);
  const shown = await withRows(
    parts.sql,
    order.map((i) => found[i]),
  );
  // A traveller removed since the prefilter read it is left out.
  const top = order.flatMap((i, k) => {
    const c = shown[k];
    return c ? [{ i, relevance: relevanceOf(plan.intent, c.profile), row: c.row, p: c.profile, score: scores[i] }] : [];
  });
  return {
    matches: top.map(({ i, relevance, row, p, score }) => {
      const factors = factorsOf(x, i * model.features.count, model.weights);
      const asks = promptReasons(plan.intent.asked, relevance, p, row.city, plan.place);
      const compatible = matchReasons(x, i * model.features.count, model, searcher, p).filter((r) => !asks.includes(r));
      return {
        userId: p.id,
        displayName: row.display_name,
        age: row.age,
        ...roundedDistance(haversineKm(latitude, longitude, row.latitude, row.longitude)),
        interests: row.interests,
        travelStyle: row.travel_style,
        matchScore: percentOf(score),
        factors: read ? { ...factors, prompt: relevance.factor } : factors,
        matchReasons: [...asks, ...compatible].slice(0, Math.max(3, asks.length)),
      };
    }),
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

/** One traveller against many, in one model run: the feature rows (of the model's feature set) and their scores. */
async function scoreAgainst(
  parts: MatchParts,
  model: LoadedModel,
  me: ProfileFeatures,
  others: readonly ProfileFeatures[],
  context: MatchContextInput | undefined,
) {
  const n = others.length;
  const { count, write } = model.features;
  const x = new Float32Array(Math.max(1, n) * count);
  others.forEach((other, i) => {
    write(me, other, context, x, i * count);
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
