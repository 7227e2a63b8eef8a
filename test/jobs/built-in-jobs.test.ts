import { createClient } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { InferenceTask, JobQueueService, JobStatus, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { RecommendationService } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { forecastArea } from "../../services/forecast/service.js";
import { seedSampleInventory } from "../../services/forecast/seed.js";
import { handlerKey } from "../../services/jobs/handler.js";
import { inferenceTaskName, modelKindName } from "../../services/jobs/job-message.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import { recommendArea } from "../../services/recommend/service.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { jobEnded, startMeshWithWorker, type MeshWithWorker } from "../support/job-mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { clearMeshCaches, testScope, TEST_REDIS_URL, type TestScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
process.env.MLMESH_QUEUE_PREFIX = `test-builtin-${process.pid}`;

let started: MeshWithWorker;
let mesh: Mesh;
let transport: MeshWithWorker["transport"];
let scope: TestScope;

beforeAll(async () => {
  scope = await testScope();
  const url = scope.databaseUrl;
  // Seeded before the recommendation area starts, which fits its first model from them.
  const seeding = await openDatabase({ url, dataDir: "" });
  await migrate(seeding.sql);
  await seedTravellers(seeding, { count: 3000, seed: 21 });
  await seedDestinations(seeding, { destinations: 600, users: 1500, seed: 21 });
  await seeding.close();
  started = await startMeshWithWorker([matchArea, forecastArea, recommendArea], scope.env, (mesh) =>
    seedSampleInventory(mesh.db, { products: 3, seed: 5, endDate: "2025-06-30" }),
  );
  ({ mesh, transport } = started);
}, 120_000);

afterAll(async () => {
  await started?.shutdown();
});

const finished = (jobId: string) => jobEnded(transport, jobId, 90_000);

describe("the built-in jobs", () => {
  it("trains the match model, promotes it, and the server swaps it in under load without a failed request", async () => {
    const match = createClient(MatchScoringService, transport);
    const [a, b] = await mesh.db.sql<{ id: string }[]>`select id::text from travellers order by id limit 2`;
    const before = await match.scoreMatch({ userAId: a.id, userBId: b.id }, { headers });
    expect(before.modelVersion).toContain("v0");

    let stop = false;
    let requests = 0;
    let failures = 0;
    const load = (async () => {
      while (!stop) {
        requests++;
        await match.scoreMatch({ userAId: a.id, userBId: b.id }, { headers }).catch(() => failures++);
      }
    })();
    const submitted = (await createClient(JobQueueService, transport).submitTrainingJob({ model: ModelKind.MATCH }, { headers })).job!;
    const job = await finished(submitted.jobId);
    expect(job.status).toBe(JobStatus.COMPLETED);
    expect(job.result).toMatchObject({ model: "match", promoted: true });
    const { version, feature_set: featureSet } = job.result as { version: number; feature_set: string };
    await expect
      .poll(async () => (await match.scoreMatch({ userAId: a.id, userBId: b.id }, { headers })).modelVersion, { timeout: 30_000 })
      .toBe(`match-${featureSet}.${version}`);
    stop = true;
    await load;
    expect(requests).toBeGreaterThan(10);
    expect(failures).toBe(0);
  }, 120_000);

  it("forecasts every product into the cache the ForecastDemand RPC reads", async () => {
    const submitted = (
      await createClient(JobQueueService, transport).submitInferenceJob(
        { task: InferenceTask.FORECAST_ALL_PRODUCTS, parameters: { horizon_days: 14 } },
        { headers },
      )
    ).job!;
    const job = await finished(submitted.jobId);
    expect(job.status).toBe(JobStatus.COMPLETED);
    expect(job.result).toMatchObject({ products: 3, forecasted: 3, horizon_days: 14 });
    const products = await mesh.db.sql<{ product_id: string }[]>`select distinct product_id from transactions order by product_id`;
    for (const { product_id } of products) {
      const res = await createClient(ForecastService, transport).forecastDemand({ productId: product_id, horizonDays: 14 }, { headers });
      expect(res.cached).toBe(true);
      expect(res.predictions).toHaveLength(14);
    }
  }, 120_000);

  it("retrains the recommendation model, swaps it in, and precomputes travellers' state into the cache the RPC reads", async () => {
    const jobs = createClient(JobQueueService, transport);
    const recommend = createClient(RecommendationService, transport);
    const [{ user_id: userId }] = await mesh.db.sql<
      { user_id: string }[]
    >`select user_id::text from destination_interactions order by 1 limit 1`;
    // The first model is fitted after the mesh starts listening: wait until it serves, not for the tests before this to take long enough.
    await expect.poll(() => mesh.health.get(""), { timeout: 100_000, interval: 100 }).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const before = (await recommend.recommendDestinations({ userId }, { headers })).modelVersion;
    const trained = await finished(
      (await jobs.submitTrainingJob({ model: ModelKind.RECOMMEND, forcePromote: true }, { headers })).job!.jobId,
    );
    expect(trained.status).toBe(JobStatus.COMPLETED);
    expect(trained.result).toMatchObject({ model: "recommend", promoted: true });
    const version = `mf-als.${(trained.result as { version: number }).version}`;
    expect(version).not.toBe(before);
    await expect
      .poll(async () => (await recommend.recommendDestinations({ userId }, { headers })).modelVersion, { timeout: 30_000 })
      .toBe(version);

    await clearMeshCaches(scope.redisPrefix, "recommend:");
    const precomputed = await finished(
      (
        await jobs.submitInferenceJob(
          { task: InferenceTask.PRECOMPUTE_RECOMMENDATIONS, parameters: { user_ids: [userId, "00000000-0000-4000-8000-000000000000"] } },
          { headers },
        )
      ).job!.jobId,
    );
    expect(precomputed.result).toMatchObject({ travellers: 2, written: 1, missing: 1, model_version: version });
    // Written where the RPC reads it: the shared cache, under the serving version.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const cached = JSON.parse((await redis.get(`${scope.redisPrefix}:recommend:${version}:user:${userId}`)) ?? "null");
      expect(cached?.vector.length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  it("builds every training and inference task the contract names", () => {
    const kinds = Object.values(ModelKind).filter((k): k is ModelKind => typeof k === "number" && k !== ModelKind.UNSPECIFIED);
    expect(kinds.filter((k) => !jobHandlers.has(handlerKey("training", modelKindName(k))))).toEqual([]);
    const tasks = Object.values(InferenceTask).filter((t): t is InferenceTask => typeof t === "number" && t !== InferenceTask.UNSPECIFIED);
    expect(tasks.filter((t) => !jobHandlers.has(handlerKey("inference", inferenceTaskName(t))))).toEqual([]);
  });
});
