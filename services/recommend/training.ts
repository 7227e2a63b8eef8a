import { INTERESTS } from "../travellers/index.js";
import { ModelRegistry, MODELS } from "../registry/index.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import type { Destination } from "./catalogue.js";
import { runOnThread } from "../runtime/worker-pool.js";
import { RECOMMEND_LAMBDA, scoreAll, trainFactorisation, userVector, type Observations, type TrainingData } from "./factorisation.js";
import { seededHash } from "../numeric/hash.js";
import { popularityScores, rankingMetrics, type RankingMetrics } from "./holdout.js";
import { STRENGTH } from "./interactions.js";
import { decodeFactorisation, encodeFactorisation, type ArtefactMetadata } from "./model-artefact.js";
import { interestIndices, InteractionMatrix, Recommender } from "./recommender.js";
import { loadCatalogue, loadInteractions, loadInterests } from "./store.js";

export interface RecommendTrainingOutcome {
  version: number;
  promoted: boolean;
  reason: string;
  metrics: { model: RankingMetrics; popularity: RankingMetrics; judged: number };
}

/** The recommendation model's hyperparameters (RecommendTrainingParameters in the contract). */
export interface RecommendHyperparameters {
  factors: number;
  regularisationLambda: number;
  confidenceAlpha: number;
  iterations: number;
}

/** The values make eval-recommend chose (see factorisation.ts). */
export const RECOMMEND_DEFAULTS: RecommendHyperparameters = {
  factors: 24,
  regularisationLambda: RECOMMEND_LAMBDA,
  confidenceAlpha: 2,
  iterations: 8,
};

/** A fitted, evaluated and encoded model: what a training thread hands back. */
export interface FittedRecommender {
  artefact: Uint8Array;
  metadata: ArtefactMetadata;
  metrics: RecommendTrainingOutcome["metrics"];
  dataSummary: { destinations: number; travellers: number; interactions: number; fitSeconds: number };
}

/** The thread module training runs on (training-thread.ts), as built or as source. */
export const RECOMMEND_TRAINING_THREAD = new URL(`./training-thread.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

/**
 * Where the fit runs: in this process (a command, a test), or on a worker
 * thread of its own that opens `databaseUrl` itself (jobs, and a server
 * fitting its first model: half a minute of ALS must not stall the event
 * loop). `module` is the thread's program (RECOMMEND_TRAINING_THREAD).
 */
export interface OnThread {
  databaseUrl: string;
  module?: URL;
}

/**
 * Reads the destinations and interactions in PostgreSQL, holds out one save
 * or booking of every traveller who has two or more, fits on the rest and
 * measures recall@10 and NDCG@10 on what was held out (and popularity's):
 * the CPU-heavy part of training. The served model is the evaluated one: the
 * held-out events are a small share of the data.
 */
export async function fitRecommendFromDatabase(
  sql: Sql,
  options: {
    signal?: AbortSignal;
    progress?: (percent: number, message: string) => void;
    parameters?: Partial<RecommendHyperparameters>;
  } = {},
): Promise<FittedRecommender> {
  const parameters = { ...RECOMMEND_DEFAULTS, ...options.parameters };
  const progress = options.progress ?? (() => undefined);
  progress(5, "reading destinations and interactions");
  const catalogue = await loadCatalogue(sql);
  if (catalogue.length === 0) throw new Error("no destinations in the database: run `mlmesh seed` first");
  const matrix = new InteractionMatrix(new Map(catalogue.map((d, i) => [d.id, i])));
  await loadInteractions(sql, (rows) => {
    for (const r of rows) matrix.add(r.userId, r.destinationId, r.kind);
  });
  options.signal?.throwIfAborted();
  const interests = await loadInterests(sql, [...matrix.byUser.keys()]);
  const { data, heldOut } = holdOut(catalogue, matrix, interests);
  progress(30, `fitting ${data.users.length} travellers × ${catalogue.length} destinations`);
  const started = performance.now();
  const model = trainFactorisation(data, {
    dim: parameters.factors,
    lambda: parameters.regularisationLambda,
    alpha: parameters.confidenceAlpha,
    iterations: parameters.iterations,
  }).model;
  const fitSeconds = (performance.now() - started) / 1000;
  progress(80, "evaluating on held-out saves and bookings");
  const observed = data.users.map((u) => u.observed);
  const scores = new Float32Array(catalogue.length);
  const popularity = popularityScores(observed, catalogue.length);
  const ours = rankingMetrics(observed, heldOut, (n) => scoreAll(model, userVector(model, data.users[n].interests, observed[n]), scores));
  const baseline = rankingMetrics(observed, heldOut, () => popularity);
  const { artefact, metadata } = encodeFactorisation(
    model,
    catalogue.map((d) => d.id),
  );
  return {
    artefact,
    // The hyperparameters it was fitted with, as the contract names them.
    metadata: {
      ...metadata,
      parameters: {
        factors: parameters.factors,
        regularisation_lambda: parameters.regularisationLambda,
        confidence_alpha: parameters.confidenceAlpha,
        iterations: parameters.iterations,
      },
    },
    metrics: { model: pick(ours), popularity: pick(baseline), judged: ours.judged },
    dataSummary: { destinations: catalogue.length, travellers: matrix.byUser.size, interactions: matrix.count, fitSeconds },
  };
}

/**
 * Trains on the destinations and interactions in PostgreSQL (see
 * fitRecommendFromDatabase), stores the model with its held-out evaluation in
 * the registry, and promotes it when it beats popularity and the serving
 * version on recall@10 (or when forced). The comparison with the serving
 * version and the promotion are one step under the registry's lock, so
 * concurrent trainings leave the best one serving.
 */
export async function trainRecommendModel(
  sql: Sql,
  options: {
    onThread?: OnThread;
    force?: boolean;
    signal?: AbortSignal;
    progress?: (percent: number, message: string) => void;
    parameters?: Partial<RecommendHyperparameters>;
  } = {},
): Promise<RecommendTrainingOutcome> {
  const progress = options.progress ?? (() => undefined);
  const { onThread } = options;
  let fitted: FittedRecommender;
  if (onThread) {
    progress(5, "reading the data and fitting on a worker thread");
    fitted = await runOnThread<FittedRecommender>(
      onThread.module ?? RECOMMEND_TRAINING_THREAD,
      { signal: options.signal, onProgress: (p, m) => progress(p as number, m as string) },
      "fitRecommend",
      onThread.databaseUrl,
      options.parameters ?? {},
    );
  } else {
    fitted = await fitRecommendFromDatabase(sql, options);
  }
  options.signal?.throwIfAborted();
  const { metrics } = fitted;
  const registry = new ModelRegistry(sql);
  const version = await registry.save({
    model: MODELS.recommend,
    artefact: fitted.artefact,
    metadata: fitted.metadata as unknown as Record<string, unknown>,
    metrics,
    dataSummary: fitted.dataSummary,
  });
  const ours = metrics.model;
  const baseline = metrics.popularity;
  let promoted = false;
  let reason: string;
  const r = (x: number) => x.toFixed(4);
  if (!options.force && !(ours.recallAt10 > baseline.recallAt10 && ours.ndcgAt10 > baseline.ndcgAt10)) {
    reason = `recall@10 ${r(ours.recallAt10)} / NDCG@10 ${r(ours.ndcgAt10)} do not beat popularity's ${r(baseline.recallAt10)} / ${r(baseline.ndcgAt10)}`;
  } else {
    const outcome = await registry.promoteIfBetter(MODELS.recommend, version, { force: options.force, score: heldOutRecall });
    promoted = outcome.promoted;
    const serving = outcome.serving;
    if (options.force) reason = "forced";
    else if (!serving) reason = "first version";
    else if (promoted) reason = `recall@10 ${r(ours.recallAt10)} beats version ${serving.version} (${r(serving.score)})`;
    else reason = `recall@10 ${r(ours.recallAt10)} does not beat serving version ${serving.version} (${r(serving.score)})`;
  }
  progress(100, promoted ? `promoted version ${version}` : `kept the serving version: ${reason}`);
  log.info("recommendation model trained", { version, promoted, reason, ...metrics.model, popularity: metrics.popularity });
  return { version, promoted, reason, metrics };
}

/** A registry entry's held-out recall@10: what promotion compares. */
function heldOutRecall(metrics: Record<string, unknown>): number | undefined {
  return (metrics as { model?: RankingMetrics }).model?.recallAt10;
}

/**
 * A registry version (the promoted one by default) with the catalogue in its
 * order; undefined when there is none or the catalogue has changed under it.
 */
export async function loadRecommender(sql: Sql, version?: number): Promise<Recommender | undefined> {
  const registry = new ModelRegistry(sql);
  const entry = version === undefined ? await registry.serving(MODELS.recommend) : await registry.get(MODELS.recommend, version);
  if (!entry) return undefined;
  const meta = entry.metadata as unknown as ArtefactMetadata;
  const byId = new Map((await loadCatalogue(sql)).map((d) => [d.id, d]));
  const catalogue: Destination[] = [];
  for (const id of meta.destinationIds) {
    const d = byId.get(id);
    if (!d) {
      log.warn("the serving recommendation model names destinations the catalogue no longer has: retrain it", {
        version: entry.version,
        missing: id,
      });
      return undefined;
    }
    catalogue.push(d);
  }
  return new Recommender(catalogue, decodeFactorisation(entry.artefact, meta), `mf-als.${entry.version}`);
}

function pick(m: RankingMetrics): RankingMetrics {
  return { recallAt10: m.recallAt10, ndcgAt10: m.ndcgAt10 };
}

/** One save or booking per traveller with two or more, chosen by a hash of their id so reruns hold out the same. */
function holdOut(catalogue: readonly Destination[], matrix: InteractionMatrix, interests: ReadonlyMap<string, readonly string[]>) {
  const heldOut: (number | undefined)[] = [];
  const users: TrainingData["users"][number][] = [];
  for (const [id, row] of matrix.byUser) {
    const strong = [...row].filter(([, s]) => s >= STRENGTH.saved).map(([i]) => i);
    const target = strong.length >= 2 ? strong[seededHash(7, id) % strong.length] : undefined;
    heldOut.push(target);
    const kept = [...row].filter(([i]) => i !== target);
    const observed: Observations = { index: Int32Array.from(kept, ([i]) => i), strength: Float32Array.from(kept, ([, s]) => s) };
    users.push({ interests: interestIndices(interests.get(id) ?? []), observed });
  }
  const itemTags = catalogue.map((d) => interestIndices(d.tags));
  return { data: { items: catalogue.length, features: INTERESTS.length, users, itemTags } satisfies TrainingData, heldOut };
}
