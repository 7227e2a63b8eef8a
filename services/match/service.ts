import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";

// MatchScoring is not built yet: every method answers UNIMPLEMENTED.
export const matchArea: AreaFactory = async () => ({ service: MatchScoringService, impl: {} });
