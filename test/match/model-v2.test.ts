import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURES_V1, featuresV2 } from "../../services/match/features/feature-sets.js";
import { FEATURE_COUNT, profileFeatures, type ProfileFeatures } from "../../services/match/features/pair-features.js";
import { encodeParts, textParts } from "../../services/match/features/text-parts.js";
import { predictLogistic, type LogisticModel } from "../../services/match/model/logistic.js";
import { PairBatchers } from "../../services/match/pair-batchers.js";
import { contentWords } from "../../services/match/prompt/read.js";
import { seedTravellers } from "../../services/match/seed.js";
import { loadServingModel } from "../../services/match/serving-model.js";
import { loadIdf, loadTravellers, toProfile } from "../../services/match/store/profiles.js";
import { loadWordVectors } from "../../services/match/text/word-vectors.js";
import { fitFromDatabase, heldOutAuc, trainFromDatabase } from "../../services/match/training.js";
import { ModelRegistry } from "../../services/registry/registry.js";
import { MeshMetrics } from "../../services/runtime/metrics.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { generatePopulation } from "../../services/travellers/index.js";
import { testScope } from "../support/scope.js";

const COUNT = 3000;
const SEED = 31;
let db: Database;
let ids: string[];

beforeAll(async () => {
  const scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: COUNT, seed: SEED });
  ids = (await db.sql<{ id: string }[]>`select id::text from travellers order by id limit 120`).map((r) => r.id);
}, 120_000);

afterAll(async () => {
  await db?.close();
});

/** The pairs scored: the first 60 listed travellers against the next 60. */
const pairsOf = (profiles: ReadonlyMap<string, ProfileFeatures>) =>
  ids.slice(0, 60).map((id, i) => [profiles.get(id)!, profiles.get(ids[60 + i])!]);

let fitted: ReturnType<typeof fitFromDatabase> | undefined;

/** What the registry's v1 entries held before v2 existed: no feature set, no candidate in the metrics. */
async function saveOldStyleV1(metricsAuc: number): Promise<number> {
  fitted ??= fitFromDatabase(db.sql);
  const { trained } = await fitted;
  const v1 = trained.v1;
  return new ModelRegistry(db.sql).save({
    model: "match",
    artefact: v1.onnx,
    metadata: {
      kind: "logistic-regression",
      featureNames: v1.featureNames,
      weights: Array.from(v1.model.weights),
      bias: v1.model.bias,
      featureMeans: v1.featureMeans,
    },
    metrics: { v0: trained.metrics.v0, v1: { auc: metricsAuc, logLoss: trained.metrics.v1.logLoss } },
    dataSummary: {},
  });
}

describe("match model v2", () => {
  it("keeps a v1 version serving until a v2 beats it, and then promotes the v2", async () => {
    const registry = new ModelRegistry(db.sql);
    // A v1 version claiming an AUC no retraining reaches: the v2 trained next must not replace it.
    const strong = await saveOldStyleV1(0.99);
    await registry.promote("match", strong);
    const kept = await trainFromDatabase(db.sql);
    expect(kept.featureSet).toBe("v2");
    expect(kept.metrics.v2.auc).toBeGreaterThan(kept.metrics.v1.auc);
    expect(kept.promoted).toBe(false);
    expect(kept.reason).toContain(`does not beat serving version ${strong}`);
    expect((await registry.serving("match"))?.version).toBe(strong);

    // A serving v1 it does beat: the v2 is promoted, through the same comparison.
    const weak = await saveOldStyleV1(0.6);
    await registry.promote("match", weak);
    const better = await trainFromDatabase(db.sql);
    expect(better.featureSet).toBe("v2");
    expect(better.promoted).toBe(true);
    const serving = (await registry.serving("match"))!;
    expect(serving.version).toBe(better.version);
    expect(serving.metadata.featureSet).toBe("v2");
    expect(heldOutAuc(serving.metrics)).toBe(better.metrics.v2.auc);
  }, 120_000);

  it("serves a v2 pair through ONNX exactly as training computed it: stored text parts, the stored centre, the fitted weights", async () => {
    const trained = await trainFromDatabase(db.sql, { force: true });
    expect(trained.featureSet).toBe("v2");
    const served = await loadServingModel(db.sql, new MeshMetrics());
    try {
      expect(served.version).toBe(`match-v2.${trained.version}`);
      expect(served.features.count).toBe(FEATURE_COUNT + 2);
      // Serving: profiles as the server reads them from PostgreSQL, rows from the version's own feature set, the ONNX run.
      const stored = new Map((await loadTravellers(db.sql, ids)).map((r) => [r.id, toProfile(r)]));
      const batchers = new PairBatchers({ matchBatchMax: 256, matchBatchWaitMs: 1 }, new MeshMetrics());
      const scored = await Promise.all(pairsOf(stored).map(([a, b]) => batchers.score(served, { a, b, context: undefined })));

      // Training: the same travellers generated in process, their parts computed from the text, the
      // weights and centre as the registry stored them, the logistic model evaluated in TypeScript.
      const entry = (await new ModelRegistry(db.sql).serving("match"))!;
      const vectors = await loadWordVectors();
      const idf = (await loadIdf(db.sql))!;
      const members = [...generatePopulation({ count: COUNT, seed: SEED })].filter((m) => ids.includes(m.traveller.id));
      const fresh = new Map(
        members.map((m) => [
          m.traveller.id,
          { ...profileFeatures(m.traveller, idf), textParts: encodeParts(textParts(m.traveller, contentWords, vectors)) },
        ]),
      );
      const set = featuresV2(Float32Array.from(entry.metadata.textCentre as number[]));
      const model: LogisticModel = { weights: Float64Array.from(entry.metadata.weights as number[]), bias: entry.metadata.bias as number };
      const row = new Float32Array(set.count);
      let textSignal = 0;
      pairsOf(fresh).forEach(([a, b], i) => {
        set.write(a, b, undefined, row, 0);
        const servedRow = scored[i].features.subarray(scored[i].offset, scored[i].offset + set.count);
        for (let k = 0; k < set.count; k++) expect(servedRow[k]).toBeCloseTo(row[k], 5);
        expect(scored[i].score).toBeCloseTo(predictLogistic(model, row), 5);
        textSignal += Math.abs(row[FEATURE_COUNT]) + Math.abs(row[FEATURE_COUNT + 1]);
      });
      // The word-vector features are present (not all zero) and carry weight.
      expect(textSignal).toBeGreaterThan(1);
      expect(Math.abs(model.weights[FEATURE_COUNT]) + Math.abs(model.weights[FEATURE_COUNT + 1])).toBeGreaterThan(0.1);
    } finally {
      await served.release();
    }
  }, 60_000);

  it("still serves a v1 artefact stored before v2, on v1's rows", async () => {
    const old = await saveOldStyleV1(0.7);
    await new ModelRegistry(db.sql).promote("match", old);
    const served = await loadServingModel(db.sql, new MeshMetrics());
    try {
      expect(served.version).toBe(`match-v1.${old}`);
      expect(served.features).toBe(FEATURES_V1);
      const entry = (await new ModelRegistry(db.sql).get("match", old))!;
      const model: LogisticModel = { weights: Float64Array.from(entry.metadata.weights as number[]), bias: entry.metadata.bias as number };
      const stored = new Map((await loadTravellers(db.sql, ids)).map((r) => [r.id, toProfile(r)]));
      const batchers = new PairBatchers({ matchBatchMax: 256, matchBatchWaitMs: 1 }, new MeshMetrics());
      const pairs = pairsOf(stored);
      const scored = await Promise.all(pairs.map(([a, b]) => batchers.score(served, { a, b, context: undefined })));
      const row = new Float32Array(FEATURE_COUNT);
      pairs.forEach(([a, b], i) => {
        FEATURES_V1.write(a, b, undefined, row, 0);
        expect(scored[i].score).toBeCloseTo(predictLogistic(model, row), 5);
      });
    } finally {
      await served.release();
    }
  }, 60_000);
});
