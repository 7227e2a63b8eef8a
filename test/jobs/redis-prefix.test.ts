import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { startJobWorker, type RunningWorker } from "../../services/jobs/worker-process.js";
import { announcePromotion, onPromotion } from "../../services/registry/index.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { MeshMetrics } from "../../services/runtime/metrics.js";
import type { Subscription } from "../../services/runtime/storage/subscriber.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";
import { CleanupGuard, startRedis, type RedisServer } from "../support/servers.js";

// Two deployments on one Redis, told apart by MLMESH_REDIS_PREFIX alone (no MLMESH_QUEUE_PREFIX):
// each runs its own jobs, hears only its own announcements, and every key and channel either
// touches starts with its prefix. The Redis is this file's own, so a scan sees only what they wrote.

const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The queues must follow MLMESH_REDIS_PREFIX here, not a queue prefix another file set.
delete process.env.MLMESH_QUEUE_PREFIX;

interface Deployment {
  prefix: string;
  mesh: Mesh;
  worker: RunningWorker;
  client: Client<typeof JobQueueService>;
}

let baseDir: string;
let guard: CleanupGuard;
let redis: RedisServer;
let watcher: Redis;
const channels = new Set<string>();
const deployments: Deployment[] = [];
const subscriptions: Subscription[] = [];

async function deploy(part: string): Promise<Deployment> {
  const scope = await testScope(part);
  const env = { ...scope.env, REDIS_URL: redis.url };
  const { mesh, config } = await startTestMesh([jobsAreaWith(fixtureHandlers)], env);
  await createFixtureTables(mesh.db.sql);
  // A worker as `mlmesh worker` reads its settings: from the environment, MLMESH_REDIS_PREFIX among them.
  const jobs = loadJobsConfig({ ...process.env, MLMESH_REDIS_PREFIX: scope.redisPrefix, MLMESH_JOB_BACKOFF_MS: "50" });
  const worker = await startJobWorker({
    config,
    jobs,
    db: mesh.db,
    handlers: fixtureHandlers,
    metrics: new MeshMetrics(),
    openAdmin: false,
  });
  const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  return { prefix: scope.redisPrefix, mesh, worker, client };
}

beforeAll(async () => {
  baseDir = mkdtempSync(join(tmpdir(), "mlmesh-redis-prefix-"));
  guard = new CleanupGuard(baseDir);
  redis = await startRedis(baseDir);
  guard.watchRedis(redis.child.pid);
  // Every channel anything publishes on, from before the deployments start.
  watcher = new Redis(redis.url);
  watcher.on("pmessage", (_pattern, channel) => channels.add(channel));
  await watcher.psubscribe("*");
  deployments.push(await deploy("a"), await deploy("b"));
}, 120_000);

afterAll(async () => {
  for (const s of subscriptions) s.close();
  for (const d of deployments) {
    await d.worker.shutdown();
    await d.mesh.shutdown();
  }
  watcher?.disconnect();
  await redis?.stop();
  rmSync(baseDir, { recursive: true, force: true });
  await guard?.finish();
});

async function statusCounts(d: Deployment): Promise<Record<string, number>> {
  const rows = await d.mesh.db.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from jobs group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe("two deployments on one Redis, apart by MLMESH_REDIS_PREFIX", () => {
  it("each runs its own jobs: no worker takes the other's", async () => {
    const N = 10;
    for (const d of deployments)
      await Promise.all(
        Array.from({ length: N }, () =>
          d.client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { steps: 1, step_ms: 1 } }, auth),
        ),
      );
    // A bound for a stuck job, not a speed check.
    const until = Date.now() + 60_000;
    let counts = await Promise.all(deployments.map(statusCounts));
    while (Date.now() < until && counts.some((c) => (c.completed ?? 0) < N)) {
      await sleep(250);
      counts = await Promise.all(deployments.map(statusCounts));
    }
    expect(counts).toEqual([{ completed: N }, { completed: N }]);
  });

  it("announces each one's model promotions on a channel under its own prefix, where it hears them", async () => {
    const heard = deployments.map(() => 0);
    for (const [i, d] of deployments.entries())
      subscriptions.push(onPromotion({ redisUrl: redis.url, redisPrefix: d.prefix, model: "match", missed: "" }, () => heard[i]++));
    const publisher = new Redis(redis.url);
    try {
      // Announced until heard: a subscription may not be in place at once.
      const until = Date.now() + 60_000;
      while (heard.some((n) => n === 0) && Date.now() < until) {
        for (const [i, d] of deployments.entries()) if (heard[i] === 0) await announcePromotion(publisher, d.prefix, "match", 7 + i);
        await sleep(100);
      }
    } finally {
      publisher.disconnect();
    }
    expect(heard.every((n) => n > 0)).toBe(true);
    // Which channel each went out on is checked with every other channel below.
    for (const d of deployments) expect(channels.has(`${d.prefix}:models`)).toBe(true);
  });

  it("every key and channel they used starts with the prefix of one of them", async () => {
    const prefixes = deployments.map((d) => `${d.prefix}:`);
    const outside = (name: string) => !prefixes.some((p) => name.startsWith(p));
    const keys: string[] = [];
    const scanner = new Redis(redis.url);
    try {
      let cursor = "0";
      do {
        const [next, found] = await scanner.scan(cursor, "COUNT", 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== "0");
    } finally {
      scanner.disconnect();
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter(outside)).toEqual([]);
    // The job events (every job above published updates) and the promotions.
    expect(channels.size).toBeGreaterThan(0);
    expect([...channels].filter(outside)).toEqual([]);
    for (const p of prefixes) expect([...channels].some((c) => c.startsWith(`${p}jobs:`))).toBe(true);
  });
});
