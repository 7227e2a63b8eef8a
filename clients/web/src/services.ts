// The mesh's contracts as protoc-gen-es wrote them (gen/): service descriptors, message types and
// schemas, one namespace per area, so a caller builds requests with the same types the server reads.
export * as forecast from "../../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
export * as jobs from "../../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
export * as match from "../../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
export * as notify from "../../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
export * as recommend from "../../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
export * as health from "../../../gen/grpc/health/v1/health_pb.js";
