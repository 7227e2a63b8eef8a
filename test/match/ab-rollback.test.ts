import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { trainFromDatabase } from "../../services/match/training.js";
import { ModelRegistry } from "../../services/registry/registry.js";
import { rollbackModel } from "../../services/registry/rollback.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope, TEST_REDIS_URL, type TestScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
let db: Database;
let mesh: Mesh;
let client: Client<typeof MatchScoringService>;
let ids: string[];
let scope: TestScope;
/** How the two trained versions answer: "match-<feature set>.<version>". */
let firstName: string;
let secondName: string;

beforeAll(async () => {
  scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: 2000, seed: 31 });
  const first = await trainFromDatabase(db.sql);
  const second = await trainFromDatabase(db.sql, { force: true });
  expect([first.version, second.version]).toEqual([1, 2]);
  firstName = `match-${first.featureSet}.1`;
  secondName = `match-${second.featureSet}.2`;
  ids = (await db.sql<{ id: string }[]>`select id::text from travellers order by id limit 200`).map((r) => r.id);
  ({ mesh } = await startTestMesh([matchArea], {
    ...scope.env,
    MLMESH_MODEL_AB_WEIGHTS: JSON.stringify({ match: { serving: 0.5, "1": 0.5 } }),
  }));
  client = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
}, 120_000);

afterAll(async () => {
  await mesh?.shutdown();
  await db?.close();
});

async function versionFor(userId: string): Promise<string> {
  return (await client.scoreCandidates({ userId, candidateIds: [ids[199]] }, { headers })).modelVersion;
}

describe("match A/B split and rollback", () => {
  it("splits users between the serving version and a pinned one by a stable hash, each answer naming its version", async () => {
    const versions = await Promise.all(ids.slice(0, 100).map(versionFor));
    const share = versions.filter((v) => v === firstName).length / versions.length;
    expect(new Set(versions)).toEqual(new Set([firstName, secondName]));
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
    // Stable: the same user lands on the same arm every time.
    expect(await Promise.all(ids.slice(0, 100).map(versionFor))).toEqual(versions);
    // Symmetric: the pair's smaller id picks the arm.
    const ab = await client.scoreMatch({ userAId: ids[3], userBId: ids[150] }, { headers });
    const ba = await client.scoreMatch({ userAId: ids[150], userBId: ids[3] }, { headers });
    expect(ba.modelVersion).toBe(ab.modelVersion);
    expect(ba.score).toBe(ab.score);
    const perVersion = await mesh.metrics.modelVersionRequests.get();
    expect(perVersion.values.map((v) => v.labels.version)).toEqual(expect.arrayContaining([firstName, secondName]));
  });

  it("rolls the serving version back in one call; servers swap to the previous one", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const outcome = await rollbackModel(db.sql, redis, "match", scope.redisPrefix);
    redis.disconnect();
    expect(outcome).toEqual({ from: 2, to: 1 });
    await expect
      .poll(async () => new Set(await Promise.all(ids.slice(0, 30).map(versionFor))), { timeout: 30_000 })
      .toEqual(new Set([firstName]));
    const versions = await new ModelRegistry(db.sql).versions("match");
    expect(versions.find((v) => v.version === 2)?.rolledBackAt).toBeInstanceOf(Date);
  });

  it("keeps the newest versions, the serving one and the rollback target", async () => {
    const registry = new ModelRegistry(db.sql, 2);
    const save = () =>
      registry.save({ model: "retention-test", artefact: new Uint8Array([1]), metadata: {}, metrics: {}, dataSummary: {} });
    await registry.promote("retention-test", await save()); // v1 serves
    await registry.promote("retention-test", await save()); // v2 serves, v1 is the rollback target
    for (let i = 0; i < 4; i++) await save(); // v3..v6, never promoted
    const kept = (await registry.versions("retention-test")).map((v) => v.version);
    expect(kept).toEqual([6, 5, 2, 1]);
  });
});
