// @mlmesh/client-web: the mesh's typed client for Edge Functions and browsers (Connect over fetch).
export { createMeshWebClient, DEFAULT_TIMEOUT_MS, type MeshWebClient, type MeshWebClientOptions } from "./client.js";
export { apiKeyInterceptor, deadlineInterceptor } from "./interceptors.js";
export * from "./services.js";
export { Code, ConnectError } from "@connectrpc/connect";
export { create, fromJson, toJson } from "@bufbuild/protobuf";
