// @mlmesh/client-node: the mesh's typed Node client for internal services (nice-grpc over the gRPC port).
export { createMeshClient, DEFAULT_DEADLINE_MS, type MeshClient, type MeshClientOptions, type ServiceClient } from "./client.js";
export { type NiceDefinition, niceDefinition } from "./definition.js";
export { isIdempotent } from "./idempotency.js";
export type { DeadlineOptions } from "./middleware/deadline.js";
export { DEFAULT_RETRY, type RetryOptions, type RetryPolicy } from "./middleware/retry.js";
export * from "./services.js";
export { ClientError, Metadata, Status } from "nice-grpc";
export { create, fromJson, toJson } from "@bufbuild/protobuf";
