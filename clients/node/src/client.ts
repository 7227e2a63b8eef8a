import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { type Channel, type ChannelCredentials, type ChannelOptions, type Client, createChannel, createClientFactory } from "nice-grpc";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService } from "../../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { NotificationDeliveryService } from "../../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { NotificationTimingService } from "../../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { RecommendationService } from "../../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { type NiceDefinition, niceDefinition } from "./definition.js";
import { apiKeyMiddleware } from "./middleware/api-key.js";
import { type DeadlineOptions, deadlineMiddleware } from "./middleware/deadline.js";
import { DEFAULT_RETRY, type RetryOptions, type RetryPolicy, retryMiddleware } from "./middleware/retry.js";
import { traceMiddleware } from "./middleware/trace.js";

/** How to reach the mesh's gRPC port and how to call it. */
export interface MeshClientOptions {
  /** The gRPC port: "host:port", "http://host:port" (plaintext) or "https://host:port" (TLS). */
  address: string;
  /** Sent as `authorization: Bearer <key>` on every call (health needs none). */
  apiKey?: string;
  /** Deadline of a call that names none, in milliseconds (default 30 s); a call's `deadline` option overrides it. */
  defaultDeadlineMs?: number;
  /** Retries of idempotent calls on UNAVAILABLE (default: 5 attempts, backoff from 100 ms doubling to 5 s, full jitter). */
  retry?: Partial<RetryPolicy>;
  /** Channel credentials (default: from the address's scheme) and grpc-js channel options. */
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
}

/** A typed client of one service: each RPC takes a request (a plain object or a message) and call options. */
export type ServiceClient<Methods extends GenServiceMethods> = Client<NiceDefinition<Methods>, DeadlineOptions & RetryOptions>;

/** The mesh's services over one channel. */
export interface MeshClient {
  readonly match: ServiceClient<(typeof MatchScoringService)["method"]>;
  readonly forecast: ServiceClient<(typeof ForecastService)["method"]>;
  readonly notify: ServiceClient<(typeof NotificationTimingService)["method"]>;
  readonly notifications: ServiceClient<(typeof NotificationDeliveryService)["method"]>;
  readonly recommend: ServiceClient<(typeof RecommendationService)["method"]>;
  readonly jobs: ServiceClient<(typeof JobQueueService)["method"]>;
  readonly health: ServiceClient<(typeof Health)["method"]>;
  readonly channel: Channel;
  /** A client of any service descriptor from gen/, on the same channel and middleware. */
  service<Methods extends GenServiceMethods>(service: GenService<Methods>): ServiceClient<Methods>;
  /** Closes the channel; calls in flight fail CANCELLED. */
  close(): void;
}

export const DEFAULT_DEADLINE_MS = 30_000;

/**
 * A Node client of the mesh for internal services, on nice-grpc over the
 * gRPC port, with the protobuf-es types of gen/. Every call carries the API
 * key and the caller's trace, has a deadline, and an idempotent call is sent
 * again on UNAVAILABLE within that deadline.
 */
export function createMeshClient(options: MeshClientOptions): MeshClient {
  // grpc-js waits up to 120 s between reconnects by default: longer than a restart, and retries would find it still waiting.
  const channel = createChannel(options.address, options.credentials, { "grpc.max_reconnect_backoff_ms": 5000, ...options.channelOptions });
  // The last middleware attached is the outermost: the deadline spans every retry, each attempt carries key and trace.
  const factory = createClientFactory()
    .use(traceMiddleware)
    .use(apiKeyMiddleware(options.apiKey))
    .use(retryMiddleware({ ...DEFAULT_RETRY, ...options.retry }))
    .use(deadlineMiddleware(options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS));
  const service = <Methods extends GenServiceMethods>(s: GenService<Methods>): ServiceClient<Methods> =>
    factory.create(niceDefinition(s), channel) as ServiceClient<Methods>;
  return {
    match: service(MatchScoringService),
    forecast: service(ForecastService),
    notify: service(NotificationTimingService),
    notifications: service(NotificationDeliveryService),
    recommend: service(RecommendationService),
    jobs: service(JobQueueService),
    health: service(Health),
    channel,
    service,
    close: () => channel.close(),
  };
}
