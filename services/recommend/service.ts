import { RecommendationService } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { MODELS, ServingSlot } from "../registry/index.js";
import type { AreaFactory } from "../runtime/area.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { FirstFit } from "./first-fit.js";
import { recommendHandlers } from "./handlers.js";
import type { Recommender } from "./recommender.js";
import { loadRecommender } from "./training.js";
import { UserStateStore } from "./user-state.js";
import { INFER } from "../runtime/keys/scopes.js";

/**
 * Recommendation: the promoted model from the registry (destination vectors
 * and the interest map, see factorisation.ts), held in memory; each
 * traveller's folded-in vector is cached in Redis. A server that finds no
 * promoted model fits one on a worker thread (half a minute at 50,000 active
 * travellers) and stores it, reporting not ready meanwhile; `mlmesh train
 * recommend` or a training job replaces it, announced on Redis and swapped in
 * without failing a request.
 */
export const recommendArea: AreaFactory = async (deps) => {
  const { sql } = deps.db;
  const serving = await ServingSlot.open<Recommender>({
    model: MODELS.recommend,
    title: "recommendation",
    load: () => loadRecommender(sql),
    redisUrl: deps.config.redisUrl,
    redisPrefix: deps.config.redisPrefix,
  });
  const firstFit = serving.current ? undefined : new FirstFit(sql, deps.db.url, serving);
  const store = new UserStateStore(sql, deps.redis, deps.config.redisPrefix, deps.metrics);
  // New views, saves and bookings, written by anyone, drop the traveller's cached state.
  const changes = await onRowChanges(
    deps.db,
    "destination_interactions",
    (id) => store.forget(serving.current, id),
    () => store.forgetAll(),
  );
  return {
    service: RecommendationService,
    scopes: INFER,
    impl: recommendHandlers({ serving, firstFit, store, metrics: deps.metrics }),
    loaded: () => (serving.current ? [{ name: "recommend", version: serving.current.version }] : []),
    // A failed first fit (no destinations seeded) is reported by the RPC, not by readiness: the other services still serve.
    notReady: async () => (serving.current || firstFit?.failure ? [] : ["recommendation model training"]),
    close: async () => {
      await serving.close();
      await changes.close();
      await firstFit?.done;
    },
  };
};
