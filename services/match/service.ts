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
import { ProfileStore } from "./profile-store.js";
import { profileStoreGauges } from "./profile-store-gauges.js";
import { MatchMetrics } from "./rpc-metrics.js";
import { loadServingModel, type LoadedModel } from "./serving-model.js";
import { loadIdf } from "./store/profiles.js";
import { EmbeddingRefresher } from "./embedding-refresh.js";
import { PromptReader } from "./prompt/read.js";
import { log } from "../runtime/log.js";
import { INFER } from "../runtime/keys/scopes.js";

/**
 * MatchScoring: profiles from PostgreSQL through two cache levels, features
 * computed per pair, and the serving model (v1 in ONNX, or v0) run in
 * batches. A promotion announced on Redis swaps in the new version after it
 * has been loaded and warmed; requests in flight finish on the old one.
 */
export const matchArea: AreaFactory = async (deps) => {
  const { sql } = deps.db;
  // Read while the model and profiles are set up: wink-nlp's model and the word vectors (0.3-0.9 s).
  const readerStarted = performance.now();
  const loadingReader = PromptReader.load();
  // Awaited below; if setting up the model fails first, its failure is the one reported.
  loadingReader.catch(() => undefined);
  // Never empty: with no promoted version in the registry it serves v0.
  const serving = await ServingSlot.open<LoadedModel>({
    model: MODELS.match,
    title: "match",
    load: () => loadServingModel(sql, deps.metrics),
    redisUrl: deps.config.redisUrl,
    redisPrefix: deps.config.redisPrefix,
  });
  const idf = (await loadIdf(sql)) ?? new Float32Array(TEXT_BUCKETS).fill(1);
  // Filled once the mesh is serving (see `serving` below): a million travellers take a while to read.
  const store = deps.config.matchProfileStore ? new ProfileStore(sql) : undefined;
  if (store) profileStoreGauges(deps.metrics, store);
  const profiles = new ProfileCache(sql, deps.redis, deps.metrics, deps.config.redisPrefix, store);
  const reader = await loadingReader;
  log.info("prompt reader loaded", { ms: Math.round(performance.now() - readerStarted) });
  const embeddings = new EmbeddingRefresher(sql, reader.vectors);
  // Travellers inserted without a vector get one in the background; searches rank them by interests until then.
  void embeddings.backfill().catch((err: unknown) => log.warn("traveller vectors not backfilled", { error: String(err) }));
  const router = await ModelRouter.load(sql, deps.metrics, deps.config.modelAbWeights, () => serving.current!);
  // Changed profiles are announced by PostgreSQL (promotions on Redis, see ServingSlot); neither is needed to serve.
  const changes = await onRowChanges(
    deps.db,
    "travellers",
    (id) => {
      profiles.forget(id);
      embeddings.changed(id);
    },
    () => {
      profiles.forgetAll();
      void embeddings.backfill().catch((err: unknown) => log.warn("traveller vectors not backfilled", { error: String(err) }));
    },
  );
  const impl = matchHandlers({
    sql,
    router,
    idf,
    reader,
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
    serving: () => store?.start(),
    close: async () => {
      await store?.close();
      await serving.close();
      await changes.close();
      await embeddings.close();
      await router.release();
    },
  };
};
