import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTravellers } from "../../services/match/seed.js";
import { ProfileCache } from "../../services/match/profile-cache.js";
import { MeshMetrics } from "../../services/runtime/metrics.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { connectRedis } from "../../services/runtime/storage/redis.js";
import { onRowChanges, type RowChanges } from "../../services/runtime/storage/row-changes.js";
import { testScope } from "../support/scope.js";

let db: Database;
let redis: Redis;
let profiles: ProfileCache;
let changes: RowChanges;

beforeAll(async () => {
  const scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: 50, seed: 5 });
  redis = connectRedis(scope.redisUrl, "test-profiles");
  profiles = new ProfileCache(db.sql, redis, new MeshMetrics(), scope.redisPrefix);
  changes = await onRowChanges(
    db,
    "travellers",
    (id) => profiles.forget(id),
    () => profiles.forgetAll(),
  );
}, 60_000);

afterAll(async () => {
  await changes?.close();
  redis?.disconnect();
  await db?.close();
});

async function age(id: string): Promise<number | undefined> {
  return (await profiles.get([id])).get(id)?.age;
}

describe("the profile cache", () => {
  it("drops every profile when the change announcements' connection was lost and listens again", async () => {
    const [{ id, age: before }] = await db.sql<{ id: string; age: number }[]>`select id::text, age from travellers order by id limit 1`;
    expect(await age(id)).toBe(before);
    // A change no server hears of (triggers off for this transaction), as one made while the
    // listener's connection was down would be.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update travellers set age = age + 1 where id = ${id}::uuid`;
    });
    expect(await age(id)).toBe(before);
    const killed = await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`;
    expect(killed.length).toBeGreaterThan(0);
    await expect.poll(() => age(id), { timeout: 20_000, interval: 100 }).toBe(before + 1);
  }, 60_000);
});
