import { fnv1a } from "../../numeric/hash.js";
import { FEATURE_COUNT, FEATURE_NAMES, pairFeatures, type ProfileFeatures } from "../features/pair-features.js";
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

/** The held-out pairs' labels and both models' probabilities, in the same order (for paired comparisons). */
export interface HeldOutPredictions {
  labels: Uint8Array;
  v0: Float32Array;
  v1: Float32Array;
}

/** L2 penalty of v1's logistic fit: chosen by services/match/eval/tune.ts on the tuning population, never the gate's. */
export const MATCH_L2 = 1;

export interface TrainedMatchModel {
  onnx: Uint8Array;
  model: LogisticModel;
  featureNames: readonly string[];
  metrics: { v0: Quality; v1: Quality; heldOutPairs: number; trainingPairs: number; positiveRate: number };
  /** Mean of each feature over the training pairs: explanations say what stands out against it. */
  featureMeans: number[];
  /** Only when asked for (`keepPredictions`): evaluations bootstrap over them. */
  heldOut?: HeldOutPredictions;
}

/** Pairs to rows: the symmetric feature vector and whether the pair matched. */
export function dataset(
  pairs: readonly LabelledPair[],
  profiles: ReadonlyMap<string, ProfileFeatures>,
): { x: Float32Array; y: Uint8Array } {
  const usable = pairs.filter((p) => profiles.has(p.a) && profiles.has(p.b));
  const x = new Float32Array(usable.length * FEATURE_COUNT);
  const y = new Uint8Array(usable.length);
  usable.forEach((p, i) => {
    pairFeatures(profiles.get(p.a)!, profiles.get(p.b)!, undefined, x, i * FEATURE_COUNT);
    y[i] = p.matched ? 1 : 0;
  });
  return { x, y };
}

/** Held out by a hash of the pair, so the split is stable across runs and machines. */
export function isHeldOut(p: LabelledPair): boolean {
  return fnv1a(`${p.a}|${p.b}`) % 5 === 0;
}

/**
 * Trains model v1 (logistic regression over the symmetric pair features) on
 * 80% of the pairs, exports it to ONNX, and scores the held-out 20% with the
 * ONNX artefact itself and with v0 (the predecessor's weighted sum, mapped to
 * a probability by a one-feature logistic fit on the training pairs so that
 * its log-loss is fair).
 */
export async function trainMatchModel(
  pairs: readonly LabelledPair[],
  profiles: ReadonlyMap<string, ProfileFeatures>,
  options: {
    version: string;
    /** Which pairs are held out; by default a hash of the pair (isHeldOut). An evaluation splits by time instead. */
    heldOut?: (p: LabelledPair) => boolean;
    l2?: number;
    iterations?: number;
    keepPredictions?: boolean;
  },
): Promise<TrainedMatchModel> {
  const heldOut = options.heldOut ?? isHeldOut;
  const train = dataset(
    pairs.filter((p) => !heldOut(p)),
    profiles,
  );
  const test = dataset(pairs.filter(heldOut), profiles);
  if (train.y.length < 100 || test.y.length < 20) throw new Error(`too few labelled pairs to train (${train.y.length} + ${test.y.length})`);
  const model = fitLogistic(train.x, train.y, FEATURE_COUNT, { l2: options.l2 ?? MATCH_L2, iterations: options.iterations });
  const onnx = exportLogisticOnnx(model, {
    producerVersion: options.version,
    docString: `match scoring ${options.version}: ${FEATURE_NAMES.join(",")}`,
  });

  const v0Train = Float32Array.from({ length: train.y.length }, (_, i) => weightedSum(train.x, i * FEATURE_COUNT));
  const v0Calibration = calibrate(v0Train, train.y);
  const v0Test = Float32Array.from({ length: test.y.length }, (_, i) => weightedSum(test.x, i * FEATURE_COUNT));
  const v0Probabilities = Float32Array.from(v0Test, (s) => predictLogistic(v0Calibration, Float32Array.of(s)));

  const scorer = await OnnxScorer.load(onnx, FEATURE_COUNT);
  const v1Probabilities = await scorer.score(test.x, test.y.length);
  await scorer.release();

  const featureMeans = Array.from({ length: FEATURE_COUNT }, (_, k) => {
    let sum = 0;
    for (let i = 0; i < train.y.length; i++) sum += train.x[i * FEATURE_COUNT + k];
    return sum / train.y.length;
  });
  return {
    onnx,
    model,
    featureMeans,
    featureNames: FEATURE_NAMES,
    metrics: {
      v0: { auc: auc(v0Test, test.y), logLoss: logLoss(v0Probabilities, test.y) },
      v1: { auc: auc(v1Probabilities, test.y), logLoss: logLoss(v1Probabilities, test.y) },
      heldOutPairs: test.y.length,
      trainingPairs: train.y.length,
      positiveRate: train.y.reduce((a, b) => a + b, 0) / train.y.length,
    },
    ...(options.keepPredictions ? { heldOut: { labels: test.y, v0: v0Probabilities, v1: Float32Array.from(v1Probabilities) } } : {}),
  };
}
