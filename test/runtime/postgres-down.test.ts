import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { NotificationTimingService, NotificationType, Urgency } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { RecommendationService } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { seedSampleInventory } from "../../services/forecast/seed.js";
import { forecastArea } from "../../services/forecast/service.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { seedActivity } from "../../services/notify/seed.js";
import { notifyArea } from "../../services/notify/service.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import { recommendArea } from "../../services/recommend/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { fixtureHandlers } from "../fixtures/job-handlers.js";
import { startPrivatePostgres, type PrivatePostgres } from "../fixtures/private-postgres.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

// Every service that reads PostgreSQL, with its PostgreSQL gone: each call that
// needs it answers UNAVAILABLE (worth retrying), not INTERNAL, and says nothing
// of SQL, files or stacks; once PostgreSQL is back, the same calls succeed
// without a restart of the mesh. The PostgreSQL is this file's own: it is stopped.

const headers = { authorization: `Bearer ${TEST_KEY}` };
// Jobs submitted here must not reach another file's workers.
process.env.MLMESH_QUEUE_PREFIX = `test-pgdown-${process.pid}`;

let pg: PrivatePostgres;
let mesh: Mesh;
let travellers: string[];
let clients: {
  match: Client<typeof MatchScoringService>;
  recommend: Client<typeof RecommendationService>;
  notify: Client<typeof NotificationTimingService>;
  forecast: Client<typeof ForecastService>;
  jobs: Client<typeof JobQueueService>;
};

/** Travellers not asked about yet, so no cache can answer for them: the call has to read PostgreSQL. */
let next = 0;
const fresh = () => travellers[next++];

/** One call per service, each needing PostgreSQL. */
const calls: Record<string, () => Promise<unknown>> = {
  "MatchScoring.ScoreMatch": () =>
    clients.match.scoreMatch({ userAId: fresh(), userBId: fresh(), context: { destination: "Paris", dates: "2026-03-01" } }, { headers }),
  "Recommendation.RecommendDestinations": () => clients.recommend.recommendDestinations({ userId: fresh() }, { headers }),
  "NotificationTiming.OptimizeNotificationTiming": () =>
    clients.notify.optimizeNotificationTiming(
      { userId: fresh(), notificationType: NotificationType.MESSAGE, urgency: Urgency.MEDIUM },
      { headers },
    ),
  // History from the transactions table (the prediction cache is bypassed when it cannot be read, so this reads too).
  "Forecast.ForecastDemand": () =>
    clients.forecast.forecastDemand({ productId: "sku-0001", horizonDays: 14, cacheBypass: true }, { headers }),
  "JobQueue.SubmitTrainingJob": () => clients.jobs.submitTrainingJob({ model: ModelKind.MATCH, parameters: { steps: 1 } }, { headers }),
  "JobQueue.ListJobs": () => clients.jobs.listJobs({}, { headers }),
};

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

/** Whatever a client may read: no SQL keyword, no path, no stack frame. */
function expectClientSafe(message: string): void {
  expect(message).not.toMatch(/\b(select|insert|update|delete|from|where|relation|table)\b/i);
  expect(message).not.toMatch(/\/\w+\/|\.(ts|js):\d+|\bat\s+\S+\s+\(/);
  expect(message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
}

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const db = await openDatabase({ url: pg.url, dataDir: "" });
  try {
    await migrate(db.sql);
    await seedTravellers(db, { count: 300, seed: 8 });
    await seedDestinations(db, { destinations: 150, users: 200, seed: 8 });
    await seedActivity(db, { users: 200, seed: 8 });
    await seedSampleInventory(db, { products: 1, seed: 8, endDate: "2025-06-30" });
    travellers = (await db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
  } finally {
    await db.close();
  }
  ({ mesh } = await startTestMesh([matchArea, recommendArea, notifyArea, forecastArea, jobsAreaWith(fixtureHandlers)], {
    DATABASE_URL: pg.url,
    MLMESH_REDIS_PREFIX: `test_pgdown_${process.pid}`,
    // The profile store would hold all 300 travellers in process and answer ScoreMatch through the outage;
    // here every call must need PostgreSQL.
    MATCH_PROFILE_STORE: "false",
  }));
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` });
  clients = {
    match: createClient(MatchScoringService, transport),
    recommend: createClient(RecommendationService, transport),
    notify: createClient(NotificationTimingService, transport),
    forecast: createClient(ForecastService, transport),
    jobs: createClient(JobQueueService, transport),
  };
  // The recommendation model is fitted at start; the mesh serves once it is in.
  const health = createClient(Health, transport);
  while ((await health.check({ service: "" })).status !== HealthCheckResponse_ServingStatus.SERVING)
    await new Promise((r) => setTimeout(r, 100));
}, 180_000);

afterAll(async () => {
  await mesh?.shutdown();
  await pg?.close();
});

describe("with PostgreSQL down", () => {
  it("every service answers while it is up", async () => {
    for (const [name, call] of Object.entries(calls)) {
      await expect(call(), name).resolves.toBeDefined();
    }
  });

  it("every call that needs it answers UNAVAILABLE, with a message that names no SQL, file or address", async () => {
    const { job } = await clients.jobs.submitTrainingJob({ model: ModelKind.MATCH, parameters: { steps: 1 } }, { headers });
    await pg.stop();
    const down: Record<string, () => Promise<unknown>> = {
      ...calls,
      "JobQueue.GetJob": () => clients.jobs.getJob({ jobId: job!.jobId }, { headers }),
    };
    const answers: Record<string, string> = {};
    for (const [name, call] of Object.entries(down)) {
      const err = await failure(call());
      answers[name] = `${Code[err.code]}: ${err.rawMessage}`;
      expectClientSafe(err.rawMessage);
    }
    // Every service at once, so a failure shows which answer what.
    expect(answers).toEqual(
      Object.fromEntries(Object.keys(down).map((name) => [name, expect.stringMatching(/^Unavailable: .*unavailable/i)])),
    );
  });

  it("the same calls succeed once it is back, without restarting the mesh", async () => {
    await pg.start();
    for (const [name, call] of Object.entries(calls)) {
      await expect(call(), name).resolves.toBeDefined();
    }
  });
});
