import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../services/registry/registry.js";
import { ServingSlot, type ServedModel } from "../../services/registry/serving-slot.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { testScope, type TestScope } from "../support/scope.js";
import { CleanupGuard, startRedis, type RedisServer } from "../support/servers.js";

// A Redis of this file's own: the test stops it while a promotion is made.
let guard: CleanupGuard;
let redis: RedisServer | undefined;
let redisDir: string;
let scope: TestScope;
let db: Database;
let registry: ModelRegistry;

async function startOurRedis(port?: number): Promise<RedisServer> {
  const server = await startRedis(redisDir, { port });
  guard.watchRedis(server.child.pid);
  return server;
}

beforeAll(async () => {
  const baseDir = mkdtempSync(join(tmpdir(), "mlmesh-serving-slot-"));
  guard = new CleanupGuard(baseDir);
  redisDir = mkdtempSync(join(baseDir, "redis-"));
  redis = await startOurRedis();
  scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  registry = new ModelRegistry(db.sql);
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await db?.close();
  await guard?.finish();
});

const save = () => registry.save({ model: "match", artefact: Uint8Array.of(1), metadata: {}, metrics: {}, dataSummary: {} });

describe("the slot a server serves from", () => {
  it("serves a version promoted while Redis was away once the subscription is back, without a restart", async () => {
    await registry.promote("match", await save());
    const slot = await ServingSlot.open<ServedModel>({
      model: "match",
      title: "test",
      load: async () => {
        const entry = await registry.serving("match");
        return entry && { version: String(entry.version) };
      },
      redisUrl: redis!.url,
      redisPrefix: scope.redisPrefix,
    });
    try {
      expect(slot.current?.version).toBe("1");
      const { port } = redis!;
      await redis!.stop();
      redis = undefined;
      // Promoted while no server can hear of it: the announcement has nowhere to go.
      await registry.promote("match", await save());
      redis = await startOurRedis(port);
      await expect.poll(() => slot.current?.version, { timeout: 30_000, interval: 100 }).toBe("2");
    } finally {
      await slot.close();
    }
  }, 60_000);

  it("also when Redis was away before the subscription first connected", async () => {
    const served = await registry.serving("match");
    const { port } = redis!;
    await redis!.stop();
    redis = undefined;
    const slot = await ServingSlot.open<ServedModel>({
      model: "match",
      title: "test",
      load: async () => {
        const entry = await registry.serving("match");
        return entry && { version: String(entry.version) };
      },
      redisUrl: `redis://127.0.0.1:${port}`,
      redisPrefix: scope.redisPrefix,
    });
    try {
      expect(slot.current?.version).toBe(String(served!.version));
      const promoted = await save();
      await registry.promote("match", promoted);
      redis = await startOurRedis(port);
      await expect.poll(() => slot.current?.version, { timeout: 30_000, interval: 100 }).toBe(String(promoted));
    } finally {
      await slot.close();
    }
  }, 60_000);
});
