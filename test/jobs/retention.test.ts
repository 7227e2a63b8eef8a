import postgres from "postgres";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retentionTargets } from "../../services/job-handlers.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { JobQueues } from "../../services/jobs/queues.js";
import { checkRetentionSettings, Retention } from "../../services/jobs/retention.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { testScope } from "../support/scope.js";

// The retention clean-up against real PostgreSQL: old rows go, young ones stay, the metric counts what went.
let sql: postgres.Sql;
let queues: JobQueues;

beforeAll(async () => {
  const scope = await testScope();
  sql = postgres(scope.databaseUrl, { max: 2, onnotice: () => undefined });
  await migrate(sql as never);
  queues = new JobQueues(scope.redisUrl, loadJobsConfig(scope.env));
});

afterAll(async () => {
  await queues?.close();
  await sql?.end();
});

async function job(status: string, deadLettered: boolean, finishedDaysAgo: number | null): Promise<string> {
  const [{ job_id }] = await sql<{ job_id: string }[]>`
    insert into jobs (job_id, job_type, kind, status, max_attempts, dead_lettered, finished_at)
    values (gen_random_uuid(), 'training', 'match', ${status}, 3, ${deadLettered},
            ${finishedDaysAgo === null ? null : sql`now() - ${finishedDaysAgo} * interval '1 day'`})
    returning job_id`;
  return job_id;
}

async function prediction(product: string, expiredDaysAgo: number): Promise<void> {
  await sql`
    insert into ml_predictions (product_id, kind, horizon_days, data_hash, response, model, expires_at)
    values (${product}, 'demand', 14, 'h', ${Buffer.from("x")}, 'm', now() - ${expiredDaysAgo} * interval '1 day')`;
}

const removedMetric = async (registry: Registry) =>
  Object.fromEntries((await registry.getSingleMetric("mlmesh_retention_removed_total")!.get()).values.map((v) => [v.labels.what, v.value]));

describe("retention", () => {
  it("removes dead-lettered jobs, finished history and expired predictions past their settings, and nothing younger", async () => {
    const oldDead = await job("failed", true, 40);
    const youngDead = await job("failed", true, 10);
    const oldDone = await job("completed", false, 100);
    const oldCancelled = await job("cancelled", false, 100);
    const youngDone = await job("completed", false, 50);
    const running = await job("running", false, null);
    const pending = await job("pending", false, null);
    await prediction("old", 3);
    await prediction("young", 0.5);
    await prediction("fresh", -1); // not expired yet

    const registry = new Registry();
    const retention = new Retention(sql as never, queues, registry, retentionTargets, {
      MLMESH_RETENTION_DEAD_LETTER_DAYS: "30",
      MLMESH_RETENTION_JOB_HISTORY_DAYS: "90",
      MLMESH_RETENTION_PREDICTIONS_DAYS: "1",
    });
    expect(await retention.runOnce()).toEqual({ dead_letter: 1, job_history: 2, predictions: 1 });
    const left = (await sql<{ job_id: string }[]>`select job_id from jobs`).map((r) => r.job_id).sort();
    expect(left).toEqual([youngDead, youngDone, running, pending].sort());
    expect(left).not.toContain(oldDead);
    expect(left).not.toContain(oldDone);
    expect(left).not.toContain(oldCancelled);
    const products = (await sql<{ product_id: string }[]>`select product_id from ml_predictions order by 1`).map((r) => r.product_id);
    expect(products).toEqual(["fresh", "young"]);
    expect(await removedMetric(registry)).toEqual({ dead_letter: 1, job_history: 2, predictions: 1 });

    // A second pass finds nothing more; a setting of 0 keeps those rows for good.
    expect(await retention.runOnce()).toEqual({ dead_letter: 0, job_history: 0, predictions: 0 });
    const keepAll = new Retention(sql as never, queues, registry, retentionTargets, {
      MLMESH_RETENTION_DEAD_LETTER_DAYS: "0",
      MLMESH_RETENTION_JOB_HISTORY_DAYS: "1",
      MLMESH_RETENTION_PREDICTIONS_DAYS: "0",
    });
    expect(await keepAll.runOnce()).toEqual({ job_history: 1 });
    expect(await removedMetric(registry)).toEqual({ dead_letter: 1, job_history: 3, predictions: 1 });
  });

  it("several workers run it once an hour between them", async () => {
    const make = () => new Retention(sql as never, queues, new Registry(), retentionTargets, {});
    const outcomes = await Promise.all([make().runIfDue(), make().runIfDue(), make().runIfDue()]);
    expect(outcomes.filter((o) => o !== undefined)).toHaveLength(1);
    expect(await make().runIfDue()).toBeUndefined();
  });

  it("a bad setting is named", () => {
    expect(
      () => new Retention(sql as never, queues, new Registry(), retentionTargets, { MLMESH_RETENTION_PREDICTIONS_DAYS: "-1" }),
    ).toThrow(/MLMESH_RETENTION_PREDICTIONS_DAYS/);
    // What a worker checks before it opens a connection.
    expect(() => checkRetentionSettings(retentionTargets, { MLMESH_RETENTION_DEAD_LETTER_DAYS: "soon" })).toThrow(
      /MLMESH_RETENTION_DEAD_LETTER_DAYS/,
    );
  });
});
