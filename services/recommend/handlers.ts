import {
  Budget,
  TripDuration,
  type RecommendationFilters,
  type RecommendationService,
  type RecommendDestinationsRequest,
} from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { MODELS, type ServingSlot } from "../registry/index.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import { Status } from "../runtime/status.js";
import type { CostLevel } from "./catalogue.js";
import type { FirstFit } from "./first-fit.js";
import { monthOfDate, type TripFilters, type TripLength } from "./filters.js";
import type { Recommender } from "./recommender.js";
import type { UserStateStore } from "./user-state.js";

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

/** What the Recommendation handler works with, built once by recommendArea. */
export interface RecommendParts {
  readonly serving: ServingSlot<Recommender>;
  /** The fit of a server that started with no promoted model, if it had to. */
  readonly firstFit: FirstFit | undefined;
  readonly store: UserStateStore;
  readonly metrics: MeshMetrics;
}

export function recommendHandlers(parts: RecommendParts): ServiceImpl<typeof RecommendationService> {
  const requests = parts.metrics.inferenceRequests.labels(MODELS.recommend);
  return {
    recommendDestinations: (req) => {
      requests.inc();
      return recommendDestinations(parts, req);
    },
  };
}

/** The traveller's best destinations by the serving model, within the trip's filters. */
async function recommendDestinations(parts: RecommendParts, req: RecommendDestinationsRequest) {
  const model = parts.serving.current;
  if (!model) {
    const failure = parts.firstFit?.failure;
    if (failure) throw new MeshError(Status.FAILED_PRECONDITION, `no recommendation model: ${failure}`);
    throw MeshError.unavailable("the recommendation model is being trained; retry shortly");
  }
  const state = await parts.store.get(model, req.userId);
  if (!state) throw MeshError.notFound(`traveller not found: ${req.userId}`);
  parts.metrics.modelVersionRequests.labels(MODELS.recommend, model.version).inc();
  const found = model.recommend(state, filtersOf(req.filters), req.limit || DEFAULT_LIMIT);
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
}

function filtersOf(f: RecommendationFilters | undefined): TripFilters {
  return {
    maxCost: f ? MAX_COST[f.budget] : undefined,
    length: f ? LENGTHS[f.duration] : undefined,
    month: f ? monthOfDate(f.travelStartDate) : undefined,
    includeVisited: f?.includeVisited ?? false,
  };
}
