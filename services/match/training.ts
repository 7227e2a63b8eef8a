import type { Sql } from "../runtime/storage/database.js";
import { runOnThread } from "../runtime/worker-pool.js";
import { ModelRegistry, MODELS } from "../registry/index.js";
import type { FeatureSetName } from "./features/feature-sets.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { labelledPairs, type Interaction } from "./interactions.js";
import { loadTravellers, toProfile } from "./store/profiles.js";
import { trainMatchModel, type TrainedMatchModel } from "./model/train.js";

export interface TrainingOutcome {
  version: number;
  /** The features of the version stored: v2, or v1 when v2 did not beat it on the same held-out pairs. */
  featureSet: FeatureSetName;
  promoted: boolean;
  metrics: StoredMetrics;
  reason: string;
}

/** What a version's registry entry holds as metrics: every model on the same held-out pairs, and which one it is. */
export type StoredMetrics = TrainedMatchModel["metrics"] & { candidate: { featureSet: FeatureSetName; auc: number; logLoss: number } };

/** The match model's hyperparameters (MatchTrainingParameters in the contract). */
export interface MatchHyperparameters {
  /** L2 penalty on the weights. */
  l2: number;
  /** Newton iterations. */
  iterations: number;
}

export const MATCH_DEFAULTS: MatchHyperparameters = { l2: 1, iterations: 12 };

/** A fitted model and a summary of the data it saw: what a training thread hands back. */
export interface FittedMatch {
  trained: TrainedMatchModel;
  dataSummary: { pairs: number; travellers: number; interactions: number };
}

/** The thread module training runs on (training-thread.ts), as built or as source. */
export const MATCH_TRAINING_THREAD = new URL(`./training-thread.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

/**
 * Where the fit runs: in this process (a command, a test), or on a worker
 * thread of its own that opens `databaseUrl` itself (jobs and servers: reading
 * a million travellers and fitting blocks for many seconds, longer than a job
 * worker's lock). `module` is the thread's program (MATCH_TRAINING_THREAD).
 */
export interface OnThread {
  databaseUrl: string;
  module?: URL;
}

/** Reads the interactions and profiles in PostgreSQL and fits v1 and v2 on them (the CPU-heavy part of training). */
export async function fitFromDatabase(
  sql: Sql,
  options: { signal?: AbortSignal; progress?: (p: number, m: string) => void; parameters?: Partial<MatchHyperparameters> } = {},
): Promise<FittedMatch> {
  const parameters = { ...MATCH_DEFAULTS, ...options.parameters };
  const progress = options.progress ?? (() => undefined);
  progress(5, "reading interactions");
  const rows = await sql<
    { from_id: string; to_id: string; kind: Interaction["kind"] }[]
  >`select from_id::text, to_id::text, kind from traveller_interactions`;
  const pairs = labelledPairs(rows.map((r) => ({ fromId: r.from_id, toId: r.to_id, kind: r.kind, day: 0 })));
  options.signal?.throwIfAborted();
  progress(25, `loading profiles for ${pairs.length} pairs`);
  const ids = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const profiles = new Map<string, ProfileFeatures>();
  for (let i = 0; i < ids.length; i += 10_000) {
    for (const row of await loadTravellers(sql, ids.slice(i, i + 10_000))) profiles.set(row.id, toProfile(row));
    options.signal?.throwIfAborted();
  }
  progress(50, "fitting");
  const trained = await trainMatchModel(pairs, profiles, { version: new Date().toISOString(), ...parameters });
  return { trained, dataSummary: { pairs: pairs.length, travellers: profiles.size, interactions: rows.length } };
}

/**
 * Trains v1 and v2 on the interactions in PostgreSQL (the same pairs, the
 * same held-out fifth) and stores v2, or v1 when v2's held-out AUC does not
 * beat v1's on those pairs (travellers whose text parts are not written yet,
 * say), as the ONNX artefact with its feature set, metrics and a summary of
 * the data in the registry. It is promoted when it beats v0 and the serving
 * version on held-out AUC (or when forced): a v1 version keeps serving until
 * a v2 beats it. The comparison with the serving version and the promotion
 * are one step under the registry's lock, so concurrent trainings leave the
 * best one serving.
 */
export async function trainFromDatabase(
  sql: Sql,
  options: {
    force?: boolean;
    signal?: AbortSignal;
    progress?: (p: number, m: string) => void;
    onThread?: OnThread;
    parameters?: Partial<MatchHyperparameters>;
  } = {},
): Promise<TrainingOutcome> {
  const parameters = { ...MATCH_DEFAULTS, ...options.parameters };
  const progress = options.progress ?? (() => undefined);
  const { onThread } = options;
  let fitted: FittedMatch;
  if (onThread) {
    progress(5, "reading the data and fitting on a worker thread");
    fitted = await runOnThread<FittedMatch>(
      onThread.module ?? MATCH_TRAINING_THREAD,
      { signal: options.signal },
      "fitMatch",
      onThread.databaseUrl,
      parameters,
    );
  } else {
    fitted = await fitFromDatabase(sql, { ...options, parameters });
  }
  const { trained } = fitted;
  options.signal?.throwIfAborted();
  progress(85, "storing");
  const v2Wins = trained.metrics.v2.auc > trained.metrics.v1.auc;
  const chosen = v2Wins ? trained.v2 : trained.v1;
  const quality = trained.metrics[chosen.featureSet];
  const metrics: StoredMetrics = { ...trained.metrics, candidate: { featureSet: chosen.featureSet, ...quality } };
  const registry = new ModelRegistry(sql);
  const version = await registry.save({
    model: MODELS.match,
    artefact: chosen.onnx,
    metadata: {
      kind: "logistic-regression",
      featureSet: chosen.featureSet,
      featureNames: chosen.featureNames,
      weights: Array.from(chosen.model.weights),
      bias: chosen.model.bias,
      featureMeans: chosen.featureMeans,
      ...(chosen.textCentre && { textCentre: chosen.textCentre }),
      // The hyperparameters it was fitted with, as the contract names them.
      parameters: { l2: parameters.l2, iterations: parameters.iterations },
    },
    metrics,
    dataSummary: fitted.dataSummary,
  });
  const { auc } = quality;
  const name = chosen.featureSet;
  const beatsBaseline = auc > trained.metrics.v0.auc;
  const against = v2Wins ? "" : ` (v2's ${trained.metrics.v2.auc.toFixed(4)} did not beat v1's on the same pairs)`;
  let promoted = false;
  let reason: string;
  if (!options.force && !beatsBaseline) {
    reason = `${name} AUC ${auc.toFixed(4)} does not beat v0 ${trained.metrics.v0.auc.toFixed(4)}`;
  } else {
    const outcome = await registry.promoteIfBetter(MODELS.match, version, { force: options.force, score: heldOutAuc });
    promoted = outcome.promoted;
    const serving = outcome.serving;
    if (options.force) reason = "forced";
    else if (!serving) reason = "first version";
    else if (promoted) reason = `${name} AUC ${auc.toFixed(4)} beats version ${serving.version} (${serving.score.toFixed(4)})`;
    else reason = `${name} held-out AUC ${auc.toFixed(4)} does not beat serving version ${serving.version} (${serving.score.toFixed(4)})`;
  }
  reason += against;
  progress(100, promoted ? `promoted version ${version} (${name})` : `kept the serving version: ${reason}`);
  return { version, featureSet: name, promoted, metrics, reason };
}

/**
 * A registry entry's held-out AUC: what promotion compares. The model the
 * entry holds (`candidate`); an entry stored before v2 existed holds v1.
 */
export function heldOutAuc(metrics: Record<string, unknown>): number | undefined {
  const m = metrics as { candidate?: { auc?: number }; v1?: { auc?: number } };
  return m.candidate ? m.candidate.auc : m.v1?.auc;
}
