import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import type { AreaFactory } from "../../services/runtime/area.js";
import { loadConfig, type MeshConfig } from "../../services/runtime/config.js";
import { startMesh, type Mesh } from "../../services/runtime/mesh.js";
import { fileScope, testRedisPrefix, TEST_REDIS_URL } from "./scope.js";

export const TEST_KEY = "test-key-0123456789abcdef";

/**
 * A mesh on free ports, with every span recorded, against this test file's
 * own database and Redis prefix (test/support/scope.ts) unless `env` names
 * others (pass a testScope's env).
 */
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
    DATABASE_URL: env.DATABASE_URL ?? (await fileScope()).databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    MLMESH_REDIS_PREFIX: testRedisPrefix(),
    LOG_LEVEL: "warn",
    MLMESH_SHUTDOWN_GRACE_MS: "5000",
    ...env,
  });
  const spans = new InMemorySpanExporter();
  const mesh = await startMesh(config, { areas, spanExporter: spans });
  return { mesh, config, spans };
}
