import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../services/registry/registry.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { testScope } from "../support/scope.js";

let db: Database;
let holder: postgres.Sql;

beforeAll(async () => {
  const scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  holder = postgres(scope.databaseUrl, { max: 1, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await holder?.end();
  await db?.close();
});

const auc = (metrics: Record<string, unknown>) => (metrics as { v1?: { auc?: number } }).v1?.auc;

/** Backends of this database waiting for a lock (a row lock or the registry's advisory lock). */
async function waitingForLocks(): Promise<number> {
  const [{ n }] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
  return n;
}

describe("promotion of concurrent trainings", () => {
  it.each([
    ["the worse one reaches the registry first", ["worse", "better"]],
    ["the better one reaches the registry first", ["better", "worse"]],
  ] as const)("ends with the better version serving when %s", async (_, order) => {
    const model = `cas-${order[0]}`;
    const registry = new ModelRegistry(db.sql);
    const save = (score: number) =>
      registry.save({ model, artefact: Uint8Array.of(1), metadata: {}, metrics: { v1: { auc: score } }, dataSummary: {} });
    const versions = { worse: await save(0.6), better: await save(0.7) };

    // The first training's promotion is held at its write (its row locked elsewhere, as a slow disk
    // or a long transaction would hold it) while the second training finishes and promotes.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const rowLocked = new Promise<void>((r) => (locked = r));
    const holding = holder.begin(async (tx) => {
      await tx`select 1 from model_versions where model = ${model} and version = ${versions[order[0]]} for update`;
      locked();
      await released;
    });
    await rowLocked;
    const first = registry.promoteIfBetter(model, versions[order[0]], { score: auc });
    await expect.poll(waitingForLocks, { timeout: 10_000 }).toBe(1);
    let secondDone = false;
    const second = registry.promoteIfBetter(model, versions[order[1]], { score: auc }).finally(() => (secondDone = true));
    // Either the second promotion waits for the first (two waiters) or it went ahead: then let the first finish.
    await expect.poll(async () => secondDone || (await waitingForLocks()) === 2, { timeout: 10_000 }).toBe(true);
    release();
    await holding;
    await Promise.all([first, second]);

    expect((await registry.serving(model))?.version).toBe(versions.better);
  });

  it("promotes a forced version whatever serves, through the same lock", async () => {
    const registry = new ModelRegistry(db.sql);
    const save = (score: number) =>
      registry.save({ model: "cas-forced", artefact: Uint8Array.of(1), metadata: {}, metrics: { v1: { auc: score } }, dataSummary: {} });
    const better = await save(0.8);
    const worse = await save(0.5);
    expect((await registry.promoteIfBetter("cas-forced", better, { score: auc })).promoted).toBe(true);
    expect(await registry.promoteIfBetter("cas-forced", worse, { score: auc })).toEqual({
      promoted: false,
      serving: { version: better, score: 0.8 },
    });
    expect((await registry.promoteIfBetter("cas-forced", worse, { score: auc, force: true })).promoted).toBe(true);
    expect((await registry.serving("cas-forced"))?.version).toBe(worse);
  });
});
