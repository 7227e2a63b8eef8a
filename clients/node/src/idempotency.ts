import type { MethodDescriptor } from "nice-grpc";

/**
 * Methods that may be sent again after UNAVAILABLE without changing the
 * outcome: reads and inference (scoring, forecasting, recommending, timing
 * notifications; the server only computes and caches), health, and CancelJob
 * (cancelling twice leaves the job cancelled). The protos declare no
 * `idempotency_level` yet; a method that does is judged by that instead.
 */
const IDEMPOTENT_PATHS = new Set([
  "/mlmesh.match.v1.MatchScoringService/ScoreMatch",
  "/mlmesh.match.v1.MatchScoringService/ScoreCandidates",
  "/mlmesh.match.v1.MatchScoringService/SearchMatches",
  "/mlmesh.match.v1.MatchScoringService/GetPrecomputedMatches",
  "/mlmesh.forecast.v1.ForecastService/ForecastDemand",
  "/mlmesh.forecast.v1.ForecastService/PredictStockout",
  "/mlmesh.notify.v1.NotificationTimingService/OptimizeNotificationTiming",
  "/mlmesh.recommend.v1.RecommendationService/RecommendDestinations",
  "/mlmesh.jobs.v1.JobQueueService/GetJob",
  "/mlmesh.jobs.v1.JobQueueService/ListJobs",
  "/mlmesh.jobs.v1.JobQueueService/ListDeadLetterJobs",
  "/mlmesh.jobs.v1.JobQueueService/CancelJob",
  "/mlmesh.notify.v1.NotificationDeliveryService/GetNotification",
  "/mlmesh.notify.v1.NotificationDeliveryService/CancelNotification",
  "/mlmesh.notify.v1.NotificationDeliveryService/RecordNotificationEngagement",
  "/mlmesh.jobs.v1.JobQueueService/ListSchedules",
  "/mlmesh.status.v1.StatusService/GetStatus",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/List",
]);

/**
 * Submissions are idempotent only with an idempotency key: the server answers
 * a repeated key with the job it already made, where a keyless repeat would
 * queue a second job. RetryJob stays out: a second call may queue the job again
 * after the first run failed once more.
 */
const IDEMPOTENT_WITH_KEY = new Set([
  "/mlmesh.jobs.v1.JobQueueService/SubmitTrainingJob",
  "/mlmesh.jobs.v1.JobQueueService/SubmitInferenceJob",
  "/mlmesh.notify.v1.NotificationDeliveryService/SendNotification",
]);

/** Whether sending this unary call again cannot do anything the first attempt did not. */
export function isIdempotent(method: MethodDescriptor, request: unknown): boolean {
  if (method.requestStream || method.responseStream) return false;
  if (method.options.idempotencyLevel !== undefined) return true;
  if (IDEMPOTENT_PATHS.has(method.path)) return true;
  if (IDEMPOTENT_WITH_KEY.has(method.path)) return hasIdempotencyKey(request);
  return false;
}

function hasIdempotencyKey(request: unknown): boolean {
  if (typeof request !== "object" || request === null) return false;
  const key = (request as { idempotencyKey?: unknown }).idempotencyKey;
  return typeof key === "string" && key !== "";
}
