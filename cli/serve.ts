import { areas } from "../services/areas.js";
import { loadConfig } from "../services/runtime/config.js";
import { log, setLogLevel } from "../services/runtime/log.js";
import { startMesh } from "../services/runtime/mesh.js";
import { ExitCode } from "./exit.js";

export const serveUsage = `mlmesh serve

Starts the mesh: gRPC (GRPC_PORT, 50051), Connect (CONNECT_PORT, 8080),
REST gateway (GATEWAY_PORT, 8000) and admin (ADMIN_PORT, 9464).
Configuration comes from the environment: MLMESH_API_KEYS (or
MLMESH_AUTH_DISABLED=true, local only), DATABASE_URL (embedded PGlite under
MLMESH_DATA_DIR when unset), REDIS_URL, LOG_LEVEL, MLMESH_MAX_MESSAGE_BYTES,
MLMESH_SHUTDOWN_GRACE_MS. SIGTERM drains in-flight calls, then exits 0.`;

export async function serve(): Promise<number> {
  const config = loadConfig();
  setLogLevel(config.logLevel);
  const mesh = await startMesh(config, { areas });
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info("signal received", { signal });
      mesh.shutdown().then(
        () => resolve(ExitCode.OK),
        (err) => {
          log.error("shutdown failed", { error: String(err) });
          resolve(ExitCode.FAILURE);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
