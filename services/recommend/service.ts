import { Budget, RecommendationService, TripDuration } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { MODELS, ServingSlot } from "../registry/index.js";
import type { AreaFactory } from "../runtime/area.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { Status } from "../runtime/status.js";
import { WorkerPool } from "../runtime/worker-pool.js";
import type { CostLevel } from "./catalogue.js";
import type { Factorisation, TrainingData } from "./factorisation.js";
import { monthOfDate, type TripFilters, type TripLength } from "./filters.js";
import type { Recommender } from "./recommender.js";
import { loadRecommender, trainRecommendModel } from "./training.js";
import { UserStateStore } from "./user-state.js";

const DEFAULT_LIMIT = 10;
const LENGTHS: Record<TripDuration, TripLength | undefined> = {
  [TripDuration.UNSPECIFIED]: undefined,
  [TripDuration.WEEKEND]: "weekend",
  [TripDuration.WEEK]: "week",
  [TripDuration.MONTH]: "month",
};
const MAX_COST: Record<Budget, CostLevel | undefined> = {
  [Budget.UNSPECIFIED]: undefined,
  [Budget.LOW]: 1,
  [Budget.MEDIUM]: 2,
  [Budget.HIGH]: 3,
};

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
  let failure: string | undefined;
  let training: Promise<void> | undefined;
  if (!serving.current) training = fitFirstModel();

  async function fitFirstModel(): Promise<void> {
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const pool = new WorkerPool(new URL(`./fit.${ext}`, import.meta.url), 1);
    try {
      const outcome = await trainRecommendModel(sql, { fit: (data: TrainingData) => pool.run<Factorisation>("fit", data) });
      // Not promoted (it did not beat popularity) is logged by training; it still answers better than nothing.
      if (!serving.current) {
        const fitted = await loadRecommender(sql, outcome.version);
        if (fitted) serving.fill(fitted);
      }
    } catch (err) {
      failure = (err as Error).message;
      log.error("could not train the recommendation model", { error: failure });
    } finally {
      await pool.close();
    }
  }

  const store = new UserStateStore(sql, deps.redis, deps.config.redisPrefix, deps.metrics);
  // New views, saves and bookings, written by anyone, drop the traveller's cached state.
  const changes = await onRowChanges(deps.db, "destination_interactions", (id) => store.forget(serving.current, id));
  const requests = deps.metrics.inferenceRequests.labels(MODELS.recommend);
  const impl: ServiceImpl<typeof RecommendationService> = {
    async recommendDestinations(req) {
      requests.inc();
      const model = serving.current;
      if (!model) {
        if (failure) throw new MeshError(Status.FAILED_PRECONDITION, `no recommendation model: ${failure}`);
        throw MeshError.unavailable("the recommendation model is being trained; retry shortly");
      }
      const state = await store.get(model, req.userId);
      if (!state) throw MeshError.notFound(`traveller not found: ${req.userId}`);
      deps.metrics.modelVersionRequests.labels(MODELS.recommend, model.version).inc();
      const f = req.filters;
      const filters: TripFilters = {
        maxCost: f ? MAX_COST[f.budget] : undefined,
        length: f ? LENGTHS[f.duration] : undefined,
        month: f ? monthOfDate(f.travelStartDate) : undefined,
        includeVisited: f?.includeVisited ?? false,
      };
      const found = model.recommend(state, filters, req.limit || DEFAULT_LIMIT);
      return {
        recommendations: found.map(({ destination: d, score, reason }) => ({
          destination: d.name,
          score,
          reason,
          destinationId: d.id,
          country: d.country,
          latitude: d.latitude,
          longitude: d.longitude,
          tags: d.tags,
          costLevel: d.costLevel as Budget,
        })),
        modelVersion: model.version,
        coldStart: state.coldStart,
      };
    },
  };
  return {
    service: RecommendationService,
    impl,
    // A failed first fit (no destinations seeded) is reported by the RPC, not by readiness: the other services still serve.
    notReady: async () => (serving.current || failure ? [] : ["recommendation model training"]),
    close: async () => {
      await serving.close();
      await changes.close();
      await training;
    },
  };
};
