import { Budget, RecommendationService, TripDuration } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import { buildCatalogue, type CostLevel } from "./catalogue.js";
import { monthOfDate, type TripFilters, type TripLength } from "./filters.js";
import { InteractionMatrix, Recommender } from "./recommender.js";
import { loadCatalogue, loadInteractions, loadInterests } from "./store.js";
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
 * Recommendation: destination and traveller vectors learned at start from
 * the interactions in PostgreSQL (implicit ALS, see factorisation.ts), kept
 * in memory; each traveller's folded-in vector is cached in Redis. Training
 * takes up to half a minute with 50,000 active travellers, so the mesh
 * starts listening at once and reports not ready until the model is in.
 */
export const recommendArea: AreaFactory = async (deps) => {
  let recommender: Recommender | undefined;
  let failure: string | undefined;
  const training = trainFromDatabase(deps.db.sql).then(
    (r) => (recommender = r),
    (err) => {
      failure = String(err);
      log.error("could not train the recommendation model", { error: failure });
    },
  );
  const store = new UserStateStore(deps.db.sql, deps.redis, deps.metrics);
  const requests = deps.metrics.inferenceRequests.labels("recommend");
  const impl: ServiceImpl<typeof RecommendationService> = {
    async recommendDestinations(req) {
      requests.inc();
      if (!recommender) throw MeshError.unavailable("the recommendation model is not trained yet");
      const state = await store.get(recommender, req.userId);
      if (!state) throw MeshError.notFound(`traveller not found: ${req.userId}`);
      const f = req.filters;
      const filters: TripFilters = {
        maxCost: f ? MAX_COST[f.budget] : undefined,
        length: f ? LENGTHS[f.duration] : undefined,
        month: f ? monthOfDate(f.travelStartDate) : undefined,
        includeVisited: f?.includeVisited ?? false,
      };
      const found = recommender.recommend(state, filters, req.limit || DEFAULT_LIMIT);
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
        modelVersion: recommender.version,
        coldStart: state.coldStart,
      };
    },
  };
  return {
    service: RecommendationService,
    impl,
    notReady: async () => (recommender ? [] : [failure ? `recommendation model failed to train: ${failure}` : "recommendation model training"]),
    close: async () => void (await training),
  };
};

/**
 * Trains on everything in destinations and destination_interactions. Retraining
 * takes seconds even for 50,000 active travellers, so it happens at start
 * rather than through the registry. An unseeded database still gets the
 * catalogue (built from the city dataset) and interest-only recommendations.
 */
export async function trainFromDatabase(sql: Sql): Promise<Recommender> {
  const started = performance.now();
  let catalogue = await loadCatalogue(sql);
  if (catalogue.length === 0) {
    log.warn("no destinations in the database (run `mlmesh seed`): serving the built-in catalogue on interests alone");
    catalogue = buildCatalogue(2_000);
  }
  const matrix = new InteractionMatrix(new Map(catalogue.map((d, i) => [d.id, i])));
  await loadInteractions(sql, (rows) => {
    for (const r of rows) matrix.add(r.userId, r.destinationId, r.kind);
  });
  const interests = await loadInterests(sql, [...matrix.byUser.keys()]);
  const recommender = Recommender.train(catalogue, matrix, interests);
  log.info("recommendation model trained", {
    version: recommender.version,
    destinations: catalogue.length,
    travellers: matrix.byUser.size,
    interactions: matrix.count,
    ms: Math.round(performance.now() - started),
  });
  return recommender;
}
