import type { MeshMetrics } from "../runtime/metrics.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import { ModelRegistry, MODELS, type ModelVersion } from "../registry/index.js";
import { FEATURES_V1, featuresV2, type FeatureSet } from "./features/feature-sets.js";
import { FEATURE_COUNT } from "./features/pair-features.js";
import { DIMENSIONS } from "./text/word-vectors.js";
import { OnnxScorer } from "./model/onnx-scorer.js";
import { PREDECESSOR_WEIGHTS, weightedSum } from "./model/weighted-sum.js";

/** One loaded, warmed model: v1 or v2 from the registry, or the v0 weighted sum. */
export interface LoadedModel {
  version: string;
  /** The features its rows hold (v0 reads v1's row): whoever scores with it writes rows of this set. */
  features: FeatureSet;
  /** Learned weight per feature (v0: the predecessor's weights on its factors), for explanations. */
  weights: Float64Array;
  /** Typical value of each feature, so explanations name what stands out. */
  means: Float64Array;
  score(x: Float32Array, rows: number): Promise<Float32Array>;
  bytes: number;
  release(): Promise<void>;
}

export function weightedSumModel(): LoadedModel {
  const weights = new Float64Array(FEATURE_COUNT);
  const idx: Record<string, number> = { interests: 0, needs: 1, bio: 2, distance: 3, age: 5, prompt: 7 };
  for (const [k, w] of Object.entries(PREDECESSOR_WEIGHTS)) weights[idx[k]] = w;
  return {
    version: "match-v0 (predecessor weights)",
    features: FEATURES_V1,
    weights,
    means: new Float64Array(FEATURE_COUNT),
    bytes: 0,
    async score(x, rows) {
      return Float32Array.from({ length: rows }, (_, i) => weightedSum(x, i * FEATURE_COUNT));
    },
    async release() {},
  };
}

/**
 * Loads the newest promoted version from the registry and warms it (a few runs
 * at typical batch sizes, so the first real request does not pay for
 * onnxruntime's lazy initialisation). Falls back to v0 when there is none.
 */
export async function loadServingModel(sql: Sql, metrics: MeshMetrics): Promise<LoadedModel> {
  const entry = await new ModelRegistry(sql).serving(MODELS.match);
  if (!entry) {
    log.warn("no promoted match model in the registry: serving v0 (predecessor weights) until one is trained (mlmesh train match)");
    return weightedSumModel();
  }
  return loadEntry(entry, metrics);
}

/** A given registry version, for an A/B arm; undefined when the registry no longer has it. */
export async function loadPinnedModel(sql: Sql, metrics: MeshMetrics, version: number): Promise<LoadedModel | undefined> {
  const entry = await new ModelRegistry(sql).get(MODELS.match, version);
  return entry ? loadEntry(entry, metrics) : undefined;
}

/**
 * The feature set a registry version was trained on (metadata.featureSet; a
 * version stored before v2 existed is v1), or undefined when its names are
 * not the set's (trained on features this code no longer computes).
 */
function featureSetOf(entry: ModelVersion): FeatureSet | undefined {
  const names = entry.metadata.featureNames as string[] | undefined;
  let set: FeatureSet | undefined;
  const name = entry.metadata.featureSet ?? "v1";
  if (name === "v1") set = FEATURES_V1;
  else if (name === "v2") {
    const centre = entry.metadata.textCentre as number[] | undefined;
    if (Array.isArray(centre) && centre.length === 2 * DIMENSIONS) set = featuresV2(Float32Array.from(centre));
  }
  return set && names?.join(",") === set.names.join(",") ? set : undefined;
}

async function loadEntry(entry: ModelVersion, metrics: MeshMetrics): Promise<LoadedModel> {
  const started = performance.now();
  const features = featureSetOf(entry);
  if (!features) {
    log.warn("registry's match model was trained on other features: serving v0", { version: entry.version });
    return weightedSumModel();
  }
  const scorer = await OnnxScorer.load(entry.artefact, features.count);
  for (const rows of [1, 8, 64, 256]) await scorer.score(new Float32Array(rows * features.count), rows);
  const version = `match-${features.name}.${entry.version}`;
  metrics.modelLoadSeconds.labels(MODELS.match).set((performance.now() - started) / 1000);
  metrics.modelMemory.labels(MODELS.match, version).set(entry.artefact.byteLength);
  log.info("match model loaded and warmed", { version, ms: Math.round(performance.now() - started) });
  return {
    version,
    features,
    weights: Float64Array.from(entry.metadata.weights as number[]),
    means: Float64Array.from((entry.metadata.featureMeans as number[] | undefined) ?? new Array(features.count).fill(0)),
    bytes: entry.artefact.byteLength,
    score: (x, rows) => scorer.score(x, rows),
    release: () => scorer.release(),
  };
}
