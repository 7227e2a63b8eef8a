import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService } from "../../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { NotificationDeliveryService } from "../../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { NotificationTimingService } from "../../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { RecommendationService } from "../../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { apiKeyInterceptor, deadlineInterceptor } from "./interceptors.js";

/** Where the mesh's Connect port is and how to call it. */
export interface MeshWebClientOptions {
  /** The Connect port's URL, e.g. "https://mesh.example.com" (its origin must be in the mesh's MLMESH_CORS_ORIGINS for a browser page). */
  baseUrl: string;
  /** Sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Timeout of a call that names none (its `timeoutMs` option), in milliseconds; default 30 s. */
  defaultTimeoutMs?: number;
  /** Interceptors of your own, run inside the key and deadline ones. */
  interceptors?: Interceptor[];
  /** The fetch to use (default: the global one); e.g. a platform's own in an Edge Function. */
  fetch?: typeof globalThis.fetch;
}

/** The mesh's services over one Connect transport. */
export interface MeshWebClient {
  readonly match: Client<typeof MatchScoringService>;
  readonly forecast: Client<typeof ForecastService>;
  readonly notify: Client<typeof NotificationTimingService>;
  readonly notifications: Client<typeof NotificationDeliveryService>;
  readonly recommend: Client<typeof RecommendationService>;
  readonly jobs: Client<typeof JobQueueService>;
  readonly health: Client<typeof Health>;
  /** A client of any service descriptor from gen/ on the same transport. */
  service<S extends DescService>(service: S): Client<S>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A client of the mesh for Edge Functions and browsers: the Connect protocol
 * (JSON) over fetch, nothing else of the platform, with the protobuf-es types
 * of gen/. Every call carries the API key and has a deadline.
 */
export function createMeshWebClient(options: MeshWebClientOptions): MeshWebClient {
  const interceptors: Interceptor[] = [deadlineInterceptor(options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS)];
  if (options.apiKey !== undefined) interceptors.push(apiKeyInterceptor(options.apiKey));
  interceptors.push(...(options.interceptors ?? []));
  const transport = createConnectTransport({ baseUrl: options.baseUrl, interceptors, fetch: options.fetch });
  const service = <S extends DescService>(s: S): Client<S> => createClient(s, transport);
  return {
    match: service(MatchScoringService),
    forecast: service(ForecastService),
    notify: service(NotificationTimingService),
    notifications: service(NotificationDeliveryService),
    recommend: service(RecommendationService),
    jobs: service(JobQueueService),
    health: service(Health),
    service,
  };
}
