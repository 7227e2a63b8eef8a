import { readFileSync } from "node:fs";
import { join } from "node:path";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { StatusService } from "../../gen/mlmesh/status/v1/status_service_pb.js";
import type { AreaDeps, AreaFactory } from "../runtime/area.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { projectRoot } from "../runtime/paths.js";

// A store that does not answer within this is reported away: GET /health must answer, not hang with it.
const PING_MS = 1000;

/** The mesh's version, from package.json (read once). */
const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")) as { version?: string }).version ?? "";
  } catch {
    return "";
  }
})();

/** StatusService: GET /health, open like grpc.health.v1 (load balancers and the predecessors' checks call it bare). */
export const statusArea: AreaFactory = async (deps) => ({ service: StatusService, impl: statusService(deps), open: true });

/**
 * GET /health (StatusService.GetStatus): the predecessors' health answer,
 * their field names kept. An unreachable PostgreSQL or Redis is reported
 * (`degraded`, `redis_connected: false`), never an error: a health check
 * that fails with what it checks tells the caller less.
 */
function statusService(parts: AreaDeps): ServiceImpl<typeof StatusService> {
  return {
    async getStatus() {
      const [databaseConnected, redisConnected] = await Promise.all([
        within(parts.db.ping().catch(() => false)),
        within(
          parts.redis.ping().then(
            (pong) => pong === "PONG",
            () => false,
          ),
        ),
      ]);
      return {
        status: databaseConnected && redisConnected ? "healthy" : "degraded",
        service: "ml-mesh",
        version: VERSION,
        timestamp: timestampNow(),
        modelsLoaded: parts.areas().flatMap((a) => a.loaded?.() ?? []),
        redisConnected,
        databaseConnected,
      };
    },
  };
}

function within(check: Promise<boolean>): Promise<boolean> {
  return Promise.race([check, new Promise<boolean>((resolve) => setTimeout(resolve, PING_MS, false).unref())]);
}
