import type { DescService } from "@bufbuild/protobuf";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService } from "../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { NotificationDeliveryService } from "../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { NotificationTimingService } from "../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { RecommendationService } from "../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { StatusService } from "../gen/mlmesh/status/v1/status_service_pb.js";

/** Every contract the mesh serves, for tools that call it by name. */
export const contracts: readonly DescService[] = [
  MatchScoringService,
  RecommendationService,
  NotificationTimingService,
  NotificationDeliveryService,
  ForecastService,
  JobQueueService,
  StatusService,
  Health,
];
