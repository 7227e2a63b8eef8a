import { RecommendationService } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";

// Recommendation is not built yet: every method answers UNIMPLEMENTED.
export const recommendArea: AreaFactory = async () => ({ service: RecommendationService, impl: {} });
