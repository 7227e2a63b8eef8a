import type { Sql } from "../runtime/storage/database.js";
import { runOnThread } from "../runtime/worker-pool.js";
import { ModelRegistry, MODELS } from "../registry/index.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { labelledPairs, type Interaction } from "./interactions.js";
import { loadTravellers, toProfile } from "./store/profiles.js";
import { trainMatchModel, type TrainedMatchModel } from "./model/train.js";

export interface TrainingOutcome {
  version: number;
  promoted: boolean;
  metrics: TrainedMatchModel["metrics"];
  reason: string;
}

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

/** Reads the interactions and profiles in PostgreSQL and fits v1 on them (the CPU-heavy part of training). */
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
 * Trains v1 on the interactions in PostgreSQL, stores the ONNX artefact with
 * its metrics and a summary of the data in the registry, and promotes it when
 * it beats v0 and the serving version on held-out AUC (or when forced). The
 * comparison with the serving version and the promotion are one step under
 * the registry's lock, so concurrent trainings leave the best one serving.
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
  const registry = new ModelRegistry(sql);
  const version = await registry.save({
    model: MODELS.match,
    artefact: trained.onnx,
    metadata: {
      kind: "logistic-regression",
      featureNames: trained.featureNames,
      weights: Array.from(trained.model.weights),
      bias: trained.model.bias,
      featureMeans: trained.featureMeans,
      // The hyperparameters it was fitted with, as the contract names them.
      parameters: { l2: parameters.l2, iterations: parameters.iterations },
    },
    metrics: trained.metrics,
    dataSummary: fitted.dataSummary,
  });
  const { auc } = trained.metrics.v1;
  const beatsBaseline = auc > trained.metrics.v0.auc;
  let promoted = false;
  let reason: string;
  if (!options.force && !beatsBaseline) {
    reason = `v1 AUC ${auc.toFixed(4)} does not beat v0 ${trained.metrics.v0.auc.toFixed(4)}`;
  } else {
    const outcome = await registry.promoteIfBetter(MODELS.match, version, { force: options.force, score: heldOutAuc });
    promoted = outcome.promoted;
    const serving = outcome.serving;
    if (options.force) reason = "forced";
    else if (!serving) reason = "first version";
    else if (promoted) reason = `AUC ${auc.toFixed(4)} beats version ${serving.version} (${serving.score.toFixed(4)})`;
    else reason = `held-out AUC ${auc.toFixed(4)} does not beat serving version ${serving.version} (${serving.score.toFixed(4)})`;
  }
  progress(100, promoted ? `promoted version ${version}` : `kept the serving version: ${reason}`);
  return { version, promoted, metrics: trained.metrics, reason };
}

/** A registry entry's held-out AUC: what promotion compares. */
function heldOutAuc(metrics: Record<string, unknown>): number | undefined {
  return (metrics as { v1?: { auc?: number } }).v1?.auc;
}
