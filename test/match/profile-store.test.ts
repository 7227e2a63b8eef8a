import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { featuresV2 } from "../../services/match/features/feature-sets.js";
import { FEATURE_COUNT, pairFeatures, type ProfileFeatures } from "../../services/match/features/pair-features.js";
import { encodeParts, partCentre } from "../../services/match/features/text-parts.js";
import { ProfileCache } from "../../services/match/profile-cache.js";
import { ProfileStore } from "../../services/match/profile-store.js";
import { seedTravellers } from "../../services/match/seed.js";
import { loadTravellers, toProfile } from "../../services/match/store/profiles.js";
import { MeshMetrics } from "../../services/runtime/metrics.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { connectRedis } from "../../services/runtime/storage/redis.js";
import { onRowChanges, type RowChanges } from "../../services/runtime/storage/row-changes.js";
import { testScope } from "../support/scope.js";

let db: Database;
let redis: Redis;
let store: ProfileStore;
let profiles: ProfileCache;
let changes: RowChanges;
let ids: string[];

beforeAll(async () => {
  const scope = await testScope();
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: 80, seed: 11 });
  redis = connectRedis(scope.redisUrl, "test-profile-store");
  store = new ProfileStore(db.sql);
  profiles = new ProfileCache(db.sql, redis, new MeshMetrics(), scope.redisPrefix, store);
  // Wired as the match area wires it.
  changes = await onRowChanges(
    db,
    "travellers",
    (id) => profiles.forget(id),
    () => profiles.forgetAll(),
  );
  ids = (await db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
  store.start();
  await store.whenFilled();
}, 60_000);

afterAll(async () => {
  await changes?.close();
  await store?.close();
  redis?.disconnect();
  await db?.close();
});

/** A profile as read from its row, the way every server read it before the store. */
async function fromDatabase(id: string): Promise<ProfileFeatures> {
  const [row] = await loadTravellers(db.sql, [id]);
  return toProfile(row);
}

function features(a: ProfileFeatures, b: ProfileFeatures, context?: Parameters<typeof pairFeatures>[2]): Float32Array {
  const x = new Float32Array(FEATURE_COUNT);
  pairFeatures(a, b, context, x);
  return x;
}

describe("the profile store", () => {
  it("holds every traveller after the fill, and each pair's features are exactly those of the rows", async () => {
    expect(store.status()).toMatchObject({ travellers: ids.length, filled: true });
    const rows = new Map((await loadTravellers(db.sql, ids)).map((r) => [r.id, toProfile(r)]));
    const context = {
      destination: rows.get(ids[0])!.trips[0]?.destination ?? "Lisbon",
      startDay: 20_000,
      endDay: 20_400,
      interests: ["hiking"],
    };
    for (const a of ids.slice(0, 20)) {
      for (const b of ids) {
        const stored = [store.get(a)!, store.get(b)!];
        expect(features(stored[0], stored[1])).toEqual(features(rows.get(a)!, rows.get(b)!));
        expect(features(stored[0], stored[1], context)).toEqual(features(rows.get(a)!, rows.get(b)!, context));
      }
    }
    const { revision: _, bio, prompt, document, textPartBytes, ...rest } = store.get(ids[5])!;
    const { embedding: __, textParts, ...row } = rows.get(ids[5])!;
    expect({ ...rest, bio: Array.from(bio.indices), prompt: Array.from(prompt.values) }).toEqual({
      ...row,
      bio: row.bio.indices,
      prompt: row.prompt.values,
      document: undefined,
    });
    expect(Array.from(document.values)).toEqual(row.document.values);
    expect(textParts).toBeDefined();
    expect(encodeParts(textPartBytes!)).toBe(textParts);
  });

  it("reads many travellers at once as it reads each: the same profiles, and the ids it lacks in order", () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    const asked = [ids[2], unknown, ...ids, "not-a-uuid", ids[2], ids[3].toUpperCase()];
    for (const many of [asked, asked.slice(0, 3), ids.slice(40)]) {
      const found = new Map<string, ProfileFeatures>();
      const missing = store.getMany(many, found);
      expect(missing).toEqual(many.some((id) => !store.get(id)) ? many.filter((id) => !store.get(id)) : undefined);
      expect([...found.keys()]).toEqual([...new Set(many.filter((id) => store.get(id)))]);
      for (const [id, p] of found) expect(p).toEqual(store.get(id));
    }
    expect(store.getMany([], new Map())).toBeUndefined();
  });

  it("scores a served v2 model's pairs as the rows do, word-vector features included", async () => {
    const rows = new Map((await loadTravellers(db.sql, ids)).map((r) => [r.id, toProfile(r)]));
    const v2 = featuresV2(partCentre(rows.values()));
    const row = (a: ProfileFeatures, b: ProfileFeatures) => {
      const x = new Float32Array(v2.count);
      v2.write(a, b, undefined, x, 0);
      return x;
    };
    for (const a of ids.slice(0, 20)) {
      for (const b of ids) {
        if (a === b) continue;
        const stored = row(store.get(a)!, store.get(b)!);
        expect(stored).toEqual(row(rows.get(a)!, rows.get(b)!));
        // bio_embedding and prompt_embedding: centred cosines, never exactly 0 for two seeded travellers.
        expect(stored[FEATURE_COUNT]).not.toBe(0);
        expect(stored[FEATURE_COUNT + 1]).not.toBe(0);
      }
    }
    // A traveller whose parts are not computed yet is kept, and reads as none, as from its row.
    const id = ids[15];
    const before = store.get(id)!.revision;
    await db.sql`update travellers set text_parts = null where id = ${id}::uuid`;
    // Dropped at once when the change is announced, then read again: wait for the new revision.
    await expect.poll(() => (store.get(id)?.revision ?? before) !== before, { timeout: 10_000, interval: 20 }).toBe(true);
    expect(store.get(id)!.textPartBytes).toBeUndefined();
    const x = row(store.get(id)!, store.get(ids[16])!);
    expect(x).toEqual(row(await fromDatabase(id), await fromDatabase(ids[16])));
    expect([x[FEATURE_COUNT], x[FEATURE_COUNT + 1]]).toEqual([0, 0]);
  });

  it("sees a profile changed by plain SQL: dropped at once, then held again with the new values", async () => {
    const id = ids[7];
    const before = store.get(id)!;
    await db.sql`update travellers set age = age + 1, latitude = latitude / 2, interests = '{}' where id = ${id}::uuid`;
    await expect.poll(() => store.get(id)?.age, { timeout: 10_000, interval: 20 }).toBe(before.age + 1);
    const after = store.get(id)!;
    expect(after.latitude).toBe(before.latitude / 2);
    expect(after.interests).toBe(0);
    expect(after.revision).not.toBe(before.revision);
    expect((await profiles.get([id])).get(id)!.age).toBe(before.age + 1);
    expect(features(after, store.get(ids[8])!)).toEqual(features(await fromDatabase(id), await fromDatabase(ids[8])));
  });

  it("drops a removed traveller", async () => {
    const id = ids[9];
    expect(store.get(id)).toBeDefined();
    await db.sql`delete from travellers where id = ${id}::uuid`;
    await expect.poll(() => store.get(id), { timeout: 10_000, interval: 20 }).toBeUndefined();
    expect((await profiles.get([id])).has(id)).toBe(false);
  });

  it("falls back to the database for a traveller it lacks, and keeps what was read", async () => {
    // Inserts are not announced: the store learns of this one from the call that reads it.
    const [{ id }] = await db.sql<{ id: string }[]>`
      insert into travellers (id, display_name, age, min_accepted_age, max_accepted_age, latitude, longitude, city, interests, needs,
                              travel_style, bio, prompt_answers, trips, text_features, text_embedding)
      select gen_random_uuid(), display_name, age, min_accepted_age, max_accepted_age, latitude, longitude, city, interests, needs,
             travel_style, bio, prompt_answers, trips, text_features, text_embedding
        from travellers where id = ${ids[3]}::uuid
      returning id::text`;
    expect(store.get(id)).toBeUndefined();
    const found = (await profiles.get([ids[2], id])).get(id);
    expect(found?.age).toBe((await fromDatabase(id)).age);
    expect(store.get(id)?.age).toBe(found?.age);
    expect(features(store.get(id)!, store.get(ids[2])!)).toEqual(features(await fromDatabase(id), await fromDatabase(ids[2])));
  });

  it("does not keep what a read found when the traveller changed while it ran", async () => {
    const id = ids[11];
    const old = await fromDatabase(id);
    const mark = store.beginRead();
    try {
      store.forget(id);
      store.learn(mark, [old]);
      expect(store.get(id)).toBeUndefined();
    } finally {
      store.doneRead();
    }
    await expect.poll(() => store.get(id)?.age, { timeout: 10_000, interval: 20 }).toBe(old.age);
  });

  it("is emptied and filled anew when the change announcements' connection was lost", async () => {
    const id = ids[13];
    const before = store.get(id)!.age;
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update travellers set age = age + 3 where id = ${id}::uuid`;
    });
    expect(store.get(id)!.age).toBe(before);
    await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`;
    await expect.poll(() => store.get(id)?.age, { timeout: 20_000, interval: 50 }).toBe(before + 3);
    await store.whenFilled();
    expect(store.status()).toMatchObject({ filled: true, travellers: ids.length });
  }, 30_000);
});

describe("the profile columns", () => {
  it("keep a profile without text or trips, and refuse one whose numbers do not fit", async () => {
    const { ProfileColumns } = await import("../../services/match/store/profile-columns.js");
    const columns = new ProfileColumns();
    const base = await fromDatabase(ids[1]);
    const empty = {
      ...base,
      bio: { indices: [], values: [] },
      prompt: { indices: [], values: [] },
      document: { indices: [], values: [] },
      trips: [],
    };
    const slot = columns.slotFor(base.id);
    expect(columns.put(slot, empty)).toBe(true);
    expect(features(columns.get(slot, base.id), base)).toEqual(features(empty, base));
    expect(columns.put(slot, { ...base, age: 40_000 })).toBe(false);
    expect(columns.isValid(slot)).toBe(false);
    expect(columns.put(slot, { ...base, bio: { indices: [1], values: [0.1] } })).toBe(false);
    expect(columns.slotFor("not-a-uuid")).toBe(-1);
    // Warming reads past neither an invalid slot nor one never handed out.
    columns.warm(Int32Array.of(slot, -1, slot + 1), 3);
    expect(columns.index.find(base.id.toUpperCase())).toBe(-1);
  });
});
