import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StatusService } from "../../gen/mlmesh/status/v1/status_service_pb.js";
import { NotificationTimingService } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import type { AreaFactory } from "../../services/runtime/area.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { statusArea } from "../../services/status/service.js";
import { startTestMesh } from "../support/mesh.js";
import { CleanupGuard, startRedis, type RedisServer } from "../support/servers.js";

// GET /health, the predecessors' health answer: no key, their field names, and a Redis outage reported rather than failed.
let dir: string;
let guard: CleanupGuard;
let redis: RedisServer | undefined;
let mesh: Mesh;

/** An area that has a model loaded, as match and recommend report theirs. */
const withModel: AreaFactory = async () => ({
  service: NotificationTimingService,
  impl: {},
  loaded: () => [{ name: "notify-test", version: "7" }],
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlmesh-status-"));
  guard = new CleanupGuard(dir);
  redis = await startRedis(mkdtempSync(join(dir, "redis-")));
  guard.watchRedis(redis.child.pid);
  ({ mesh } = await startTestMesh([withModel, statusArea], { REDIS_URL: redis.url }));
}, 60_000);

afterAll(async () => {
  await mesh?.shutdown();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
  await guard?.finish();
});

const rest = async () => {
  const res = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/health`);
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("GET /health", () => {
  it("answers without a key, in the predecessors' field names, with the loaded models and both stores", async () => {
    const { code, body } = await rest();
    expect(code).toBe(200);
    expect(body).toMatchObject({
      status: "healthy",
      service: "ml-mesh",
      models_loaded: [{ name: "notify-test", version: "7" }],
      redis_connected: true,
      database_connected: true,
    });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(body.timestamp as string)).not.toBeNaN();
    const grpc = createClient(StatusService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    expect(await grpc.getStatus({})).toMatchObject({ status: "healthy", redisConnected: true, databaseConnected: true });
  });

  it("with Redis down it reports redis_connected false and degraded, over REST and gRPC, instead of failing", async () => {
    await redis!.stop();
    redis = undefined;
    const { code, body } = await rest();
    expect(code).toBe(200);
    expect(body).toMatchObject({ status: "degraded", redis_connected: false, database_connected: true });
    const grpc = createClient(StatusService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    expect(await grpc.getStatus({})).toMatchObject({ status: "degraded", redisConnected: false });
  });
});
