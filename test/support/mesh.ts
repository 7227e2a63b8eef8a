import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import type { AreaFactory } from "../../services/runtime/area.js";
import { loadConfig, type MeshConfig } from "../../services/runtime/config.js";
import { startMesh, type Mesh } from "../../services/runtime/mesh.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/mlmesh_test";
export const TEST_KEY = "test-key-0123456789abcdef";

/** A mesh on free ports against the test database, with every span recorded. */
export async function startTestMesh(
  areas: readonly AreaFactory[],
  env: Record<string, string> = {},
): Promise<{ mesh: Mesh; config: MeshConfig; spans: InMemorySpanExporter }> {
  const config = loadConfig({
    GRPC_PORT: "0",
    CONNECT_PORT: "0",
    ADMIN_PORT: "0",
    GATEWAY_PORT: "0",
    MLMESH_HOST: "127.0.0.1",
    MLMESH_API_KEYS: TEST_KEY,
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: "redis://127.0.0.1:6379",
    LOG_LEVEL: "warn",
    MLMESH_SHUTDOWN_GRACE_MS: "5000",
    ...env,
  });
  const spans = new InMemorySpanExporter();
  const mesh = await startMesh(config, { areas, spanExporter: spans });
  return { mesh, config, spans };
}
