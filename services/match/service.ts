import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { MODELS, ServingSlot } from "../registry/index.js";
import type { AreaFactory } from "../runtime/area.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { TEXT_BUCKETS } from "./features/text-vectors.js";
import { matchHandlers } from "./handlers.js";
import { ModelRouter } from "./model-router.js";
import { PairBatchers } from "./pair-batchers.js";
import { Predictions } from "./predictions.js";
import { ProfileCache } from "./profile-cache.js";
import { MatchMetrics } from "./rpc-metrics.js";
import { loadServingModel, type LoadedModel } from "./serving-model.js";
import { loadIdf } from "./store/profiles.js";
import { INFER } from "../runtime/keys/scopes.js";

/**
 * MatchScoring: profiles from PostgreSQL through two cache levels, features
 * computed per pair, and the serving model (v1 in ONNX, or v0) run in
 * batches. A promotion announced on Redis swaps in the new version after it
 * has been loaded and warmed; requests in flight finish on the old one.
 */
export const matchArea: AreaFactory = async (deps) => {
  const { sql } = deps.db;
  // Never empty: with no promoted version in the registry it serves v0.
  const serving = await ServingSlot.open<LoadedModel>({
    model: MODELS.match,
    title: "match",
    load: () => loadServingModel(sql, deps.metrics),
    redisUrl: deps.config.redisUrl,
    redisPrefix: deps.config.redisPrefix,
  });
  const idf = (await loadIdf(sql)) ?? new Float32Array(TEXT_BUCKETS).fill(1);
  const profiles = new ProfileCache(sql, deps.redis, deps.metrics, deps.config.redisPrefix);
  const router = await ModelRouter.load(sql, deps.metrics, deps.config.modelAbWeights, () => serving.current!);
  // Changed profiles are announced by PostgreSQL (promotions on Redis, see ServingSlot); neither is needed to serve.
  const changes = await onRowChanges(
    deps.db,
    "travellers",
    (id) => profiles.forget(id),
    () => profiles.forgetAll(),
  );
  const impl = matchHandlers({
    sql,
    router,
    idf,
    profiles,
    predictions: new Predictions(deps.config.matchPredictionCacheTtlMs),
    batchers: new PairBatchers(deps.config, deps.metrics),
    metrics: new MatchMetrics(deps.metrics),
  });
  return {
    service: MatchScoringService,
    scopes: INFER,
    impl,
    loaded: () => (serving.current ? [{ name: "match", version: serving.current.version }] : []),
    close: async () => {
      await serving.close();
      await changes.close();
      await router.release();
    },
  };
};
