import { fnv1a } from "../../numeric/hash.js";
import { FEATURES_V1, featuresV2, type FeatureSet, type FeatureSetName } from "../features/feature-sets.js";
import { partCentre } from "../features/text-parts.js";
import type { ProfileFeatures } from "../features/pair-features.js";
import type { LabelledPair } from "../interactions.js";
import { auc, logLoss } from "./metrics.js";
import { calibrate, fitLogistic, predictLogistic, type LogisticModel } from "./logistic.js";
import { exportLogisticOnnx } from "./onnx-export.js";
import { OnnxScorer } from "./onnx-scorer.js";
import { weightedSum } from "./weighted-sum.js";

export interface Quality {
  auc: number;
  logLoss: number;
}

/** The held-out pairs' labels and each model's probabilities, in the same order (for paired comparisons). */
export interface HeldOutPredictions {
  labels: Uint8Array;
  v0: Float32Array;
  v1: Float32Array;
  v2: Float32Array;
}

/**
 * L2 penalties of the logistic fits, v1's and v2's: chosen by
 * services/match/eval/tune.ts on the tuning population, never the gate's.
 */
export const MATCH_L2 = 1;
export const MATCH_L2_V2 = 1;

/** One fitted model over one feature set, exported to ONNX. */
export interface FittedVersion {
  featureSet: FeatureSetName;
  featureNames: readonly string[];
  onnx: Uint8Array;
  model: LogisticModel;
  /** Mean of each feature over the training pairs: explanations say what stands out against it. */
  featureMeans: number[];
  /** v2: the training travellers' mean text parts, which its features centre on (text-parts.ts). */
  textCentre?: number[];
}

export interface TrainedMatchModel {
  v1: FittedVersion;
  v2: FittedVersion;
  /** Every model judged on the same held-out pairs (v1 and v2 through their ONNX artefacts). */
  metrics: { v0: Quality; v1: Quality; v2: Quality; heldOutPairs: number; trainingPairs: number; positiveRate: number };
  /** Only when asked for (`keepPredictions`): evaluations bootstrap over them. */
  heldOut?: HeldOutPredictions;
}

/** Pairs to rows of a feature set (v1 by default): the symmetric feature vector and whether the pair matched. */
export function dataset(
  pairs: readonly LabelledPair[],
  profiles: ReadonlyMap<string, ProfileFeatures>,
  set: FeatureSet = FEATURES_V1,
): { x: Float32Array; y: Uint8Array } {
  const usable = pairs.filter((p) => profiles.has(p.a) && profiles.has(p.b));
  const x = new Float32Array(usable.length * set.count);
  const y = new Uint8Array(usable.length);
  usable.forEach((p, i) => {
    set.write(profiles.get(p.a)!, profiles.get(p.b)!, undefined, x, i * set.count);
    y[i] = p.matched ? 1 : 0;
  });
  return { x, y };
}

/** Held out by a hash of the pair, so the split is stable across runs and machines. */
export function isHeldOut(p: LabelledPair): boolean {
  return fnv1a(`${p.a}|${p.b}`) % 5 === 0;
}

/** The first `count` columns of a row-major matrix of `stride` columns (v2's rows hold v1's first). */
function leadingColumns(x: Float32Array, rows: number, stride: number, count: number): Float32Array {
  const out = new Float32Array(rows * count);
  for (let i = 0; i < rows; i++) out.set(x.subarray(i * stride, i * stride + count), i * count);
  return out;
}

/**
 * Fits one feature set's logistic model, exports it to ONNX and scores the
 * held-out rows with the artefact itself (what serving runs).
 */
async function fitVersion(
  set: FeatureSet,
  train: { x: Float32Array; y: Uint8Array },
  test: { x: Float32Array; y: Uint8Array },
  options: { version: string; l2: number; iterations?: number },
): Promise<{ fitted: FittedVersion; probabilities: Float32Array }> {
  const model = fitLogistic(train.x, train.y, set.count, { l2: options.l2, iterations: options.iterations });
  const onnx = exportLogisticOnnx(model, {
    producerVersion: options.version,
    docString: `match scoring ${set.name} ${options.version}: ${set.names.join(",")}`,
  });
  const scorer = await OnnxScorer.load(onnx, set.count);
  const probabilities = Float32Array.from(await scorer.score(test.x, test.y.length));
  await scorer.release();
  const featureMeans = Array.from({ length: set.count }, (_, k) => {
    let sum = 0;
    for (let i = 0; i < train.y.length; i++) sum += train.x[i * set.count + k];
    return sum / train.y.length;
  });
  return { fitted: { featureSet: set.name, featureNames: set.names, onnx, model, featureMeans }, probabilities };
}

/**
 * Trains v1 (logistic regression over the symmetric pair features) and v2
 * (the same, plus the word-vector bio and prompt-answer similarities) on
 * 80% of the pairs, exports each to ONNX, and scores the held-out 20% with
 * the ONNX artefacts themselves and with v0 (the predecessor's weighted sum,
 * mapped to a probability by a one-feature logistic fit on the training pairs
 * so that its log-loss is fair). All three are judged on the same pairs.
 */
export async function trainMatchModel(
  pairs: readonly LabelledPair[],
  profiles: ReadonlyMap<string, ProfileFeatures>,
  options: {
    version: string;
    /** Which pairs are held out; by default a hash of the pair (isHeldOut). An evaluation splits by time instead. */
    heldOut?: (p: LabelledPair) => boolean;
    /** L2 penalty of both fits; by default each its tuned one (MATCH_L2, MATCH_L2_V2). */
    l2?: number;
    l2V2?: number;
    iterations?: number;
    keepPredictions?: boolean;
  },
): Promise<TrainedMatchModel> {
  const heldOut = options.heldOut ?? isHeldOut;
  const trainingPairs = pairs.filter((p) => !heldOut(p));
  // v2's centre comes from the travellers of the training pairs alone, as the IDF of an evaluation does.
  const trainingIds = new Set(trainingPairs.flatMap((p) => [p.a, p.b]));
  const centre = partCentre([...trainingIds].flatMap((id) => profiles.get(id) ?? []));
  const FEATURES_V2 = featuresV2(centre);
  const train2 = dataset(trainingPairs, profiles, FEATURES_V2);
  const test2 = dataset(pairs.filter(heldOut), profiles, FEATURES_V2);
  if (train2.y.length < 100 || test2.y.length < 20)
    throw new Error(`too few labelled pairs to train (${train2.y.length} + ${test2.y.length})`);
  const v1Of = (d: { x: Float32Array; y: Uint8Array }) => ({
    x: leadingColumns(d.x, d.y.length, FEATURES_V2.count, FEATURES_V1.count),
    y: d.y,
  });
  const train1 = v1Of(train2);
  const test1 = v1Of(test2);
  const common = { version: options.version, iterations: options.iterations };
  const v1 = await fitVersion(FEATURES_V1, train1, test1, { ...common, l2: options.l2 ?? MATCH_L2 });
  const v2 = await fitVersion(FEATURES_V2, train2, test2, { ...common, l2: options.l2V2 ?? options.l2 ?? MATCH_L2_V2 });

  const stride = FEATURES_V1.count;
  const v0Train = Float32Array.from({ length: train1.y.length }, (_, i) => weightedSum(train1.x, i * stride));
  const v0Calibration = calibrate(v0Train, train1.y);
  const v0Test = Float32Array.from({ length: test1.y.length }, (_, i) => weightedSum(test1.x, i * stride));
  const v0Probabilities = Float32Array.from(v0Test, (s) => predictLogistic(v0Calibration, Float32Array.of(s)));
  const y = test1.y;
  return {
    v1: v1.fitted,
    v2: { ...v2.fitted, textCentre: Array.from(centre) },
    metrics: {
      v0: { auc: auc(v0Test, y), logLoss: logLoss(v0Probabilities, y) },
      v1: { auc: auc(v1.probabilities, y), logLoss: logLoss(v1.probabilities, y) },
      v2: { auc: auc(v2.probabilities, y), logLoss: logLoss(v2.probabilities, y) },
      heldOutPairs: y.length,
      trainingPairs: train1.y.length,
      positiveRate: train1.y.reduce((a, b) => a + b, 0) / train1.y.length,
    },
    ...(options.keepPredictions ? { heldOut: { labels: y, v0: v0Probabilities, v1: v1.probabilities, v2: v2.probabilities } } : {}),
  };
}
