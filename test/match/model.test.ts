import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, profileFeatures, type ProfileFeatures } from "../../services/match/features/pair-features.js";
import { fitIdf } from "../../services/match/features/text-vectors.js";
import { predictLogistic } from "../../services/match/model/logistic.js";
import { auc, logLoss } from "../../services/match/model/metrics.js";
import { OnnxScorer } from "../../services/match/model/onnx-scorer.js";
import { dataset, trainMatchModel } from "../../services/match/model/train.js";
import { generatePopulation } from "../../services/travellers/population.js";
import { generateInteractions, labelledPairs } from "../../services/match/interactions.js";

describe("match model", () => {
  it("computes AUC and log-loss correctly on known cases", () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 6);
    expect(auc([0.9, 0.1], [1, 0])).toBe(1);
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.log(2), 6);
  });

  it("learns v1 that beats the predecessor's weights, and its ONNX artefact agrees with the TypeScript model", async () => {
    const members = [...generatePopulation({ count: 4000, seed: 11 })];
    const idf = fitIdf(members.map((m) => m.traveller.bio));
    const profiles = new Map<string, ProfileFeatures>(members.map((m) => [m.traveller.id, profileFeatures(m.traveller, idf)]));
    const pairs = labelledPairs(generateInteractions(members, { seed: 11, shownPerUser: 12 }));
    const trained = await trainMatchModel(pairs, profiles, { version: "test" });
    expect(trained.metrics.v1.auc).toBeGreaterThan(trained.metrics.v0.auc + 0.03);
    expect(trained.metrics.v1.logLoss).toBeLessThan(trained.metrics.v0.logLoss);

    const { x } = dataset(pairs.slice(0, 500), profiles);
    const scorer = await OnnxScorer.load(trained.v1.onnx, FEATURE_COUNT);
    const onnxScores = await scorer.score(x, 500);
    for (let i = 0; i < 500; i++) expect(onnxScores[i]).toBeCloseTo(predictLogistic(trained.v1.model, x, i * FEATURE_COUNT), 5);
    // One run for one row and one for many give the same numbers.
    expect((await scorer.score(x.subarray(0, FEATURE_COUNT), 1))[0]).toBeCloseTo(onnxScores[0], 6);

    // The run happens within score(): nothing queued on the event loop (a scavenge V8 scheduled, another
    // call's I/O) runs in the middle of a call. Its numbers are the public API's, to the bit.
    expect(scorer.synchronous).toBe(true);
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const now = await scorer.score(x, 500);
    expect(turned).toBe(false);
    const session = await ort.InferenceSession.create(trained.v1.onnx);
    const viaApi = (await session.run({ features: new ort.Tensor("float32", x.subarray(0, 500 * FEATURE_COUNT), [500, FEATURE_COUNT]) }))
      .score.data as Float32Array;
    expect(Array.from(now)).toEqual(Array.from(viaApi));
    await session.release();
    await scorer.release();
    await scorer.release();
  });
});
