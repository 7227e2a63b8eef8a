import type { Sql } from "../runtime/storage/database.js";
import { ModelRegistry, MODELS } from "../registry/index.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { labelledPairs, type Interaction } from "./interactions.js";
import { loadTravellers, toProfile } from "./store/profiles.js";
import { trainMatchModel } from "./model/train.js";

export interface TrainingOutcome {
  version: number;
  promoted: boolean;
  metrics: Awaited<ReturnType<typeof trainMatchModel>>["metrics"];
  reason: string;
}

/**
 * Trains v1 on the interactions in PostgreSQL, stores the ONNX artefact with
 * its metrics and a summary of the data in the registry, and promotes it when
 * it beats the serving version on held-out AUC (or when forced).
 */
export async function trainFromDatabase(
  sql: Sql,
  options: { force?: boolean; signal?: AbortSignal; progress?: (p: number, m: string) => void } = {},
): Promise<TrainingOutcome> {
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
  const registry = new ModelRegistry(sql);
  const trained = await trainMatchModel(pairs, profiles, { version: new Date().toISOString() });
  progress(85, "storing");
  const version = await registry.save({
    model: MODELS.match,
    artefact: trained.onnx,
    metadata: {
      kind: "logistic-regression",
      featureNames: trained.featureNames,
      weights: Array.from(trained.model.weights),
      bias: trained.model.bias,
      featureMeans: trained.featureMeans,
    },
    metrics: trained.metrics,
    dataSummary: { pairs: pairs.length, travellers: profiles.size, interactions: rows.length },
  });
  const current = await registry.serving(MODELS.match);
  const currentAuc = (current?.metrics as { v1?: { auc?: number } } | undefined)?.v1?.auc ?? -Infinity;
  let promoted = false;
  let reason: string;
  if (options.force) {
    promoted = true;
    reason = "forced";
  } else if (!(trained.metrics.v1.auc > trained.metrics.v0.auc)) {
    reason = `v1 AUC ${trained.metrics.v1.auc.toFixed(4)} does not beat v0 ${trained.metrics.v0.auc.toFixed(4)}`;
  } else if (trained.metrics.v1.auc <= currentAuc) {
    reason = `held-out AUC ${trained.metrics.v1.auc.toFixed(4)} does not beat serving version ${current!.version} (${currentAuc.toFixed(4)})`;
  } else {
    promoted = true;
    reason = current
      ? `AUC ${trained.metrics.v1.auc.toFixed(4)} beats version ${current.version} (${currentAuc.toFixed(4)})`
      : "first version";
  }
  if (promoted) await registry.promote(MODELS.match, version);
  progress(100, promoted ? `promoted version ${version}` : `kept the serving version: ${reason}`);
  return { version, promoted, metrics: trained.metrics, reason };
}
