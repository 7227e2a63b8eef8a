import { loadConfig, type MeshConfig } from "../services/runtime/config.js";

export const BENCH_API_KEY = "bench-key-0123456789abcdef";

/** A mesh on free loopback ports against the given database, for a benchmark run. */
export function benchConfig(env: { DATABASE_URL: string; LOG_LEVEL: string; REDIS_URL?: string }): MeshConfig {
  return loadConfig({
    ...process.env,
    GRPC_PORT: "0",
    CONNECT_PORT: "0",
    ADMIN_PORT: "0",
    GATEWAY_PORT: "0",
    MLMESH_HOST: "127.0.0.1",
    MLMESH_API_KEYS: BENCH_API_KEY,
    ...env,
  });
}
