import { INTERESTS } from "../travellers/index.js";
import { ModelRegistry, MODELS } from "../registry/index.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import type { Destination } from "./catalogue.js";
import { scoreAll, trainFactorisation, userVector, type Factorisation, type Observations, type TrainingData } from "./factorisation.js";
import { seededHash } from "../numeric/hash.js";
import { popularityScores, rankingMetrics, type RankingMetrics } from "./holdout.js";
import { STRENGTH } from "./interactions.js";
import { decodeFactorisation, encodeFactorisation, type ArtefactMetadata } from "./model-artefact.js";
import { interestIndices, InteractionMatrix, Recommender } from "./recommender.js";
import { loadCatalogue, loadInteractions, loadInterests } from "./store.js";

/** Fits the factorisation; the server passes one that runs on a worker thread. */
export type Fit = (data: TrainingData) => Promise<Factorisation>;
export const fitInProcess: Fit = async (data) => trainFactorisation(data).model;

export interface RecommendTrainingOutcome {
  version: number;
  promoted: boolean;
  reason: string;
  metrics: { model: RankingMetrics; popularity: RankingMetrics; judged: number };
}

/**
 * Trains on the destinations and interactions in PostgreSQL, holding out one
 * save or booking of every traveller who has two or more; stores the model
 * with its held-out recall@10 and NDCG@10 (and popularity's) in the registry,
 * and promotes it when it beats popularity and the serving version (or when
 * forced). The served model is the evaluated one: the held-out events are a
 * small share of the data.
 */
export async function trainRecommendModel(
  sql: Sql,
  options: { fit?: Fit; force?: boolean; signal?: AbortSignal; progress?: (percent: number, message: string) => void } = {},
): Promise<RecommendTrainingOutcome> {
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
  const model = await (options.fit ?? fitInProcess)(data);
  options.signal?.throwIfAborted();
  progress(80, "evaluating on held-out saves and bookings");
  const observed = data.users.map((u) => u.observed);
  const scores = new Float32Array(catalogue.length);
  const popularity = popularityScores(observed, catalogue.length);
  const ours = rankingMetrics(observed, heldOut, (n) => scoreAll(model, userVector(model, data.users[n].interests, observed[n]), scores));
  const baseline = rankingMetrics(observed, heldOut, () => popularity);
  const metrics = { model: pick(ours), popularity: pick(baseline), judged: ours.judged };

  const registry = new ModelRegistry(sql);
  const { artefact, metadata } = encodeFactorisation(
    model,
    catalogue.map((d) => d.id),
  );
  const version = await registry.save({
    model: MODELS.recommend,
    artefact,
    metadata: metadata as unknown as Record<string, unknown>,
    metrics,
    dataSummary: {
      destinations: catalogue.length,
      travellers: matrix.byUser.size,
      interactions: matrix.count,
      fitSeconds: (performance.now() - started) / 1000,
    },
  });
  const current = await registry.serving(MODELS.recommend);
  const currentRecall = (current?.metrics as { model?: RankingMetrics } | undefined)?.model?.recallAt10 ?? -Infinity;
  let promoted = false;
  let reason: string;
  const r = (x: number) => x.toFixed(4);
  if (options.force) {
    promoted = true;
    reason = "forced";
  } else if (!(ours.recallAt10 > baseline.recallAt10 && ours.ndcgAt10 > baseline.ndcgAt10)) {
    reason = `recall@10 ${r(ours.recallAt10)} / NDCG@10 ${r(ours.ndcgAt10)} do not beat popularity's ${r(baseline.recallAt10)} / ${r(baseline.ndcgAt10)}`;
  } else if (ours.recallAt10 <= currentRecall) {
    reason = `recall@10 ${r(ours.recallAt10)} does not beat serving version ${current!.version} (${r(currentRecall)})`;
  } else {
    promoted = true;
    reason = current ? `recall@10 ${r(ours.recallAt10)} beats version ${current.version} (${r(currentRecall)})` : "first version";
  }
  if (promoted) await registry.promote(MODELS.recommend, version);
  progress(100, promoted ? `promoted version ${version}` : `kept the serving version: ${reason}`);
  log.info("recommendation model trained", { version, promoted, reason, ...metrics.model, popularity: metrics.popularity });
  return { version, promoted, reason, metrics };
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
