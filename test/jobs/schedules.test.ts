import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { JobStore } from "../../services/jobs/job-store.js";
import { JobQueues } from "../../services/jobs/queues.js";
import { SchedulerReconciler } from "../../services/jobs/scheduler-reconciler.js";
import { ScheduleStore } from "../../services/jobs/schedule-store.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

// Schedules: BullMQ's job schedulers make the ticks, a worker records each tick's job as it takes it.
const ADMIN_KEY = "schedules-admin-key-0123456789";
const JOBS_KEY = "schedules-jobs-key-0123456789";
const admin = { headers: { authorization: `Bearer ${ADMIN_KEY}` } };
const jobsOnly = { headers: { authorization: `Bearer ${JOBS_KEY}` } };

let dir: string;
let env: Record<string, string>;
let mesh: Mesh;
let sql: postgres.Sql;
let client: Client<typeof JobQueueService>;
let queues: JobQueues;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlmesh-schedules-"));
  const keys = join(dir, "keys.json");
  writeFileSync(
    keys,
    JSON.stringify([
      { name: "ops", key: ADMIN_KEY, scopes: ["jobs", "admin"] },
      { name: "app", key: JOBS_KEY, scopes: ["jobs"] },
    ]),
  );
  const scope = await testScope();
  env = { ...scope.env, MLMESH_JOB_BACKOFF_MS: "50", MLMESH_WORKER_CONCURRENCY: "2" };
  ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], { ...env, MLMESH_API_KEYS: "", MLMESH_API_KEYS_FILE: keys }));
  sql = postgres(scope.databaseUrl, { max: 2, onnotice: () => undefined });
  await createFixtureTables(sql);
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  queues = new JobQueues(scope.redisUrl, loadJobsConfig(env));
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await queues?.close();
  await mesh?.shutdown();
  await sql?.end();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

describe("CreateSchedule refuses what would never tick", () => {
  const base = { name: "bad", job: { case: "trainingModel" as const, value: ModelKind.MATCH } };
  it.each([
    ["a bad cron expression", { case: "cron" as const, value: { expression: "61 * * * *", timeZone: "" } }, "schedule.cron.expression"],
    [
      "an unknown time zone",
      { case: "cron" as const, value: { expression: "0 3 * * *", timeZone: "Mars/Olympus" } },
      "schedule.cron.time_zone",
    ],
    ["a zero interval", { case: "intervalSeconds" as const, value: 0 }, "schedule.interval_seconds"],
  ])("%s: INVALID_ARGUMENT naming the field", async (_, timing, field) => {
    const err = await refusal(client.createSchedule({ schedule: { ...base, timing } }, admin));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(field);
  });

  it("a cron expression in a time zone is taken, listed and deleted", async () => {
    const timing = { case: "cron" as const, value: { expression: "0 3 * * *", timeZone: "Europe/Lisbon" } };
    const { schedule } = await client.createSchedule({ schedule: { ...base, name: "nightly-match", timing } }, admin);
    expect(schedule?.timing).toMatchObject(timing);
    // The next tick is 03:00 in Lisbon: 03:00 UTC in winter, 02:00 UTC in summer.
    expect([2, 3]).toContain(schedule?.nextRunTime && new Date(Number(schedule.nextRunTime.seconds) * 1000).getUTCHours());
    const again = await refusal(client.createSchedule({ schedule: { ...base, name: "nightly-match", timing } }, admin));
    expect(again.code).toBe(Code.AlreadyExists);
    expect((await client.listSchedules({}, jobsOnly)).schedules.map((s) => s.name)).toEqual(["nightly-match"]);
    await client.deleteSchedule({ name: "nightly-match" }, admin);
    expect((await client.listSchedules({}, admin)).schedules).toEqual([]);
    expect(await queues.schedulers()).toEqual([]);
    expect((await refusal(client.deleteSchedule({ name: "nightly-match" }, admin))).code).toBe(Code.NotFound);
  });

  it("creating and deleting need admin; listing needs jobs", async () => {
    const timing = { case: "intervalSeconds" as const, value: 60 };
    const create = await refusal(client.createSchedule({ schedule: { ...base, name: "x", timing } }, jobsOnly));
    expect(create.code).toBe(Code.PermissionDenied);
    expect(create.rawMessage).toContain("'admin'");
    expect((await refusal(client.deleteSchedule({ name: "x" }, jobsOnly))).code).toBe(Code.PermissionDenied);
    await expect(client.listSchedules({}, jobsOnly)).resolves.toBeDefined();
  });
});

describe("over REST", () => {
  it("POST /jobs/schedules, GET /jobs/schedules, DELETE /jobs/schedules/{name}, in snake_case JSON", async () => {
    const base = `http://127.0.0.1:${mesh.ports.gateway}/jobs/schedules`;
    const body = JSON.stringify({ name: "rest-forecasts", inference_task: "INFERENCE_TASK_SCORE_CANDIDATES", interval_seconds: 3600 });
    const refused = await fetch(base, { method: "POST", headers: jobsOnly.headers, body });
    expect(refused.status).toBe(403);
    const created = await fetch(base, { method: "POST", headers: admin.headers, body });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ name: "rest-forecasts", interval_seconds: 3600 });
    const listed = (await (await fetch(base, { headers: jobsOnly.headers })).json()) as { schedules: { name: string }[] };
    expect(listed.schedules.map((s) => s.name)).toEqual(["rest-forecasts"]);
    expect((await fetch(`${base}/rest-forecasts`, { method: "DELETE", headers: admin.headers })).status).toBe(200);
    expect((await fetch(`${base}/rest-forecasts`, { method: "DELETE", headers: admin.headers })).status).toBe(404);
  });
});

describe("a schedule ticks once per tick, whatever the number of workers", () => {
  it("three workers, an interval of 1 s: each tick is one job with one record and one run", async () => {
    workers.push(...(await Promise.all([0, 1, 2].map(() => startWorkerProcess(env)))));
    await client.createSchedule(
      {
        schedule: {
          name: "every-second",
          job: { case: "inferenceTask", value: InferenceTask.SCORE_CANDIDATES },
          parameters: { steps: 1, step_ms: 20 },
          timing: { case: "intervalSeconds", value: 1 },
        },
      },
      admin,
    );
    const TICKS = 4;
    const done = async () =>
      (
        await sql<
          { n: number }[]
        >`select count(*)::int as n from jobs where queue_entry like 'repeat:every-second:%' and status = 'completed'`
      )[0].n;
    const until = Date.now() + 60_000;
    while ((await done()) < TICKS && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    await client.deleteSchedule({ name: "every-second" }, admin);
    expect(await done()).toBeGreaterThanOrEqual(TICKS);
    expect(await queues.schedulers()).toEqual([]);

    const ticks = await sql<{ queue_entry: string; kind: string; runs: number; effects: number }[]>`
      select j.queue_entry, j.kind,
             (select count(*)::int from job_executions e where e.job_id = j.job_id) as runs,
             (select count(*)::int from job_effects f where f.job_id = j.job_id) as effects
      from jobs j where j.queue_entry like 'repeat:every-second:%' and j.status = 'completed'`;
    // One record per tick, and each tick's job ran once and wrote its effect once.
    expect(new Set(ticks.map((t) => t.queue_entry)).size).toBe(ticks.length);
    for (const t of ticks) expect(t).toMatchObject({ kind: "score_candidates", runs: 1, effects: 1 });
    // Every execution the fixture recorded belongs to one of those records: no tick ran under a second job.
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from job_executions`;
    const [{ all }] = await sql<
      { all: number }[]
    >`select count(*)::int as "all" from jobs where queue_entry like 'repeat:every-second:%' and status <> 'pending'`;
    expect(n).toBe(all);
    // The jobs are ordinary ones: GetJob and ListJobs show them.
    const { jobs } = await client.listJobs({ pageSize: 500 }, admin);
    expect(jobs.filter((j) => j.task === InferenceTask.SCORE_CANDIDATES).length).toBeGreaterThanOrEqual(TICKS);
  }, 90_000);

  it("a tick taken twice (its first worker died) finds the record the first take made", async () => {
    const store = new JobStore(sql as never);
    const tick = {
      jobType: "training" as const,
      kind: "match",
      parameters: {},
      forcePromote: false,
      priority: 0,
      maxAttempts: 3,
      idempotencyKey: undefined,
      traceParent: "",
    };
    const [a, b] = await Promise.all([store.forTick("repeat:twice:1", tick), store.forTick("repeat:twice:1", tick)]);
    expect(a.jobId).toBe(b.jobId);
    expect((await sql`select 1 from jobs where queue_entry = 'repeat:twice:1'`).length).toBe(1);
    expect((await store.forTick("repeat:twice:2", tick)).jobId).not.toBe(a.jobId);
  });

  it("a schedule Redis lost is re-created from PostgreSQL by the reconciler", async () => {
    // No worker takes the ticks here: a tick of a deleted schedule would remove its scheduler before the reconciler does.
    for (const w of workers.splice(0)) {
      w.child.kill("SIGTERM");
      await w.exited;
    }
    await client.createSchedule(
      {
        schedule: {
          name: "hourly",
          job: { case: "trainingModel", value: ModelKind.MATCH },
          timing: { case: "intervalSeconds", value: 3600 },
        },
      },
      admin,
    );
    await queues.removeScheduler("hourly"); // what a Redis that came back empty has
    expect(await queues.schedulers()).toEqual([]);
    const reconciler = new SchedulerReconciler(new ScheduleStore(sql), queues, 3);
    expect(await reconciler.runOnce()).toBe(1);
    expect((await queues.schedulers()).map((s) => [s.name, s.queue])).toEqual([["hourly", "training"]]);
    // And a scheduler whose schedule is gone is removed.
    await sql`delete from job_schedules where name = 'hourly'`;
    expect(await reconciler.runOnce()).toBe(1);
    expect(await queues.schedulers()).toEqual([]);
  });
});

describe("mlmesh schedules", () => {
  async function mlmesh(...args: string[]) {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "cli/main.ts", "schedules", ...args, "--addr", `127.0.0.1:${mesh.ports.grpc}`],
      {
        env: { ...process.env, MLMESH_API_KEY: ADMIN_KEY },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, "exit");
    return { code: code as number | null, stdout, stderr };
  }

  it("creates, lists and deletes a nightly retrain; a bad time zone is the server's INVALID_ARGUMENT, a missing name a usage error", async () => {
    // The refusals run beside the create: none of them touches its schedule.
    const [created, badZone, usage] = await Promise.all([
      mlmesh("create", "--name", "nightly-match", "--cron", "0 3 * * *", "--tz", "Europe/Lisbon", "--train", "match"),
      mlmesh("create", "--name", "x", "--cron", "0 3 * * *", "--tz", "Europe/Atlantis", "--infer", "score_candidates"),
      mlmesh("create", "--every", "60", "--train", "match"),
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(/^nightly-match\ttrain match\tcron "0 3 \* \* \*" Europe\/Lisbon next \d{4}-/);
    expect((await client.listSchedules({}, admin)).schedules.map((s) => s.name)).toEqual(["nightly-match"]);
    const listed = await mlmesh("list");
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(badZone.code).toBe(1);
    expect(badZone.stderr).toContain("ERROR INVALID_ARGUMENT: schedule.cron.time_zone");
    expect(usage.code).toBe(2);
    expect(await mlmesh("delete", "nightly-match")).toMatchObject({ code: 0, stdout: "deleted nightly-match\n" });
    expect((await client.listSchedules({}, admin)).schedules).toEqual([]);
  }, 60_000);
});
