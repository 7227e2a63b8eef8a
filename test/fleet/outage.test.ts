import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, JobStatus } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import type { Fleet } from "../../scripts/fleet/fleet.js";
import { startPrivatePostgres, type PrivatePostgres } from "../fixtures/private-postgres.js";
import { seedFleetDatabase, startTestFleet, trainFirstModels } from "../support/fleet.js";
import { TEST_KEY } from "../support/mesh.js";
import { clearMeshCaches, TEST_REDIS_URL, testRedisPrefix } from "../support/scope.js";

// The fleet (two replicas, a worker, HAProxy) loses its PostgreSQL (this file's own server, stopped)
// for a while and gets it back: nobody restarts anything, and every job submitted before or during
// the outage is completed, once. No time is asserted: waits are for states.

const headers = { authorization: `Bearer ${TEST_KEY}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let pg: PrivatePostgres;
let fleet: Fleet;
let ids: string[];

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const prefix = testRedisPrefix();
  await clearMeshCaches(prefix);
  ids = await seedFleetDatabase(pg.url);
  const env = { DATABASE_URL: pg.url, REDIS_URL: TEST_REDIS_URL, MLMESH_REDIS_PREFIX: prefix, MLMESH_QUEUE_PREFIX: prefix };
  await trainFirstModels(env);
  fleet = await startTestFleet(env, 2, 1);
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await pg?.close();
});

describe("a fleet whose PostgreSQL goes away and comes back", () => {
  it("recovers by itself, and completes every job submitted before and during the outage once", async () => {
    const jobs = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${fleet.proxy.grpc}` }));
    let refused = 0;
    // A client's submission: retried with its idempotency key until the fleet takes it.
    const submit = async (key: string) => {
      for (;;) {
        try {
          const res = await jobs.submitInferenceJob(
            { task: InferenceTask.SCORE_CANDIDATES, parameters: { user_ids: [ids[0]], top_k: 3 }, idempotencyKey: key },
            { headers, timeoutMs: 10_000 },
          );
          return res.job!.jobId;
        } catch {
          refused++;
          await sleep(200);
        }
      }
    };
    const before = await Promise.all([0, 1, 2].map((i) => submit(`before-${i}`)));
    await pg.stop();
    const during = [0, 1, 2].map((i) => submit(`during-${i}`));
    // Until the fleet has refused submissions for lack of its database: the outage is seen.
    await expect.poll(() => refused, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    await pg.start();
    const all = [...before, ...(await Promise.all(during))];
    expect(new Set(all).size).toBe(6);
    for (const jobId of all) {
      await expect
        .poll(async () => (await jobs.getJob({ jobId }, { headers }).catch(() => undefined))?.job?.status, {
          timeout: 90_000,
          interval: 200,
        })
        .toBe(JobStatus.COMPLETED);
    }
    // Once: one record per submission, each finished in one run.
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ idempotency_key: string; status: string; run: number }[]>`
        select idempotency_key, status, run from jobs where idempotency_key is not null order by idempotency_key`;
      expect(rows.map((r) => r.idempotency_key)).toEqual(["before-0", "before-1", "before-2", "during-0", "during-1", "during-2"]);
      expect(rows.every((r) => r.status === "completed" && r.run === 0)).toBe(true);
    } finally {
      await sql.end();
    }
    // Every replica is back in the proxy and answers, with no restart.
    for (let i = 0; i < fleet.replicas.length; i++) {
      await expect.poll(() => fleet.proxyUp(i), { timeout: 60_000, interval: 200 }).toBe(true);
      const match = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${fleet.replicas[i].ports.grpc}` }));
      await expect
        .poll(async () => (await match.scoreMatch({ userAId: ids[3], userBId: ids[4] }, { headers }).catch(() => undefined))?.score, {
          timeout: 60_000,
          interval: 200,
        })
        .toBeTypeOf("number");
      expect(fleet.replicas[i].child.exitCode).toBeNull();
    }
  }, 240_000);
});
