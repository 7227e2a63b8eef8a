import { ForecastService } from "../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { MatchScoringService } from "../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { Budget, RecommendationService, TripDuration } from "../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { sampleProducts } from "../services/forecast/sample-demand.js";
import type { Mesh } from "../services/runtime/mesh.js";
import type { MethodCase } from "./grpc-methods.js";

/** The methods each built service adds to the h2load table. */
export async function benchCases(mesh: Mesh): Promise<MethodCase[]> {
  const [product] = sampleProducts({ count: 1, days: 3 * 365, endDate: "2025-06-30", seed: 7 });
  const forecastRequest = { productId: "bench-sku", horizonDays: 90, transactionData: product.days };
  const users = await mesh.db.sql<{ id: string }[]>`select id::text from travellers order by id limit 101`;
  const [browser] = await mesh.db.sql<{ id: string }[]>`select user_id::text as id from destination_interactions limit 1`;
  return [
    {
      name: "ScoreMatch (model run every call: prediction cache off, batched)",
      service: MatchScoringService,
      method: MatchScoringService.method.scoreMatch,
      request: { userAId: users[0].id, userBId: users[1].id, context: { destination: "Lisbon" } },
      authenticated: true,
    },
    {
      name: "ScoreCandidates (100 candidates, one ONNX run)",
      service: MatchScoringService,
      method: MatchScoringService.method.scoreCandidates,
      request: { userId: users[0].id, candidateIds: users.slice(1, 101).map((u) => u.id) },
      authenticated: true,
    },
    {
      name: "RecommendDestinations (10,000 destinations, top 10; user state from Redis)",
      service: RecommendationService,
      method: RecommendationService.method.recommendDestinations,
      request: { userId: browser.id },
      authenticated: true,
    },
    {
      name: "RecommendDestinations (same, budget + week + season filters)",
      service: RecommendationService,
      method: RecommendationService.method.recommendDestinations,
      request: { userId: browser.id, filters: { budget: Budget.MEDIUM, duration: TripDuration.WEEK, travelStartDate: "2026-07-01" } },
      authenticated: true,
    },
    {
      name: "ForecastDemand (3 years inline, horizon 90, refit: cache_bypass)",
      service: ForecastService,
      method: ForecastService.method.forecastDemand,
      request: { ...forecastRequest, cacheBypass: true },
      authenticated: true,
    },
    {
      name: "ForecastDemand (same request, served from the ml_predictions cache)",
      service: ForecastService,
      method: ForecastService.method.forecastDemand,
      request: forecastRequest,
      authenticated: true,
    },
  ];
}
