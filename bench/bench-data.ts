import postgres from "postgres";
import { layOutByLocation, seedTravellers } from "../services/match/seed.js";
import { trainFromDatabase } from "../services/match/training.js";
import { seedActivity } from "../services/notify/seed.js";
import { trainNotifyPrior } from "../services/notify/training.js";
import { MODELS, ModelRegistry } from "../services/registry/index.js";
import { seedDestinations } from "../services/recommend/seed.js";
import { trainRecommendModel } from "../services/recommend/training.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate } from "../services/runtime/storage/migrations.js";

const BENCH_DESTINATIONS = 10_000;

/**
 * The benchmark's own database: a million travellers (BENCH_TRAVELLERS), a
 * trained match model, activity for notification timing and its promoted prior, and a
 * 10,000-destination catalogue with interactions for recommendation, created
 * once and reused while its size matches. `database` names another database
 * (a small one to iterate on without reseeding the shared one).
 */
export async function prepareBenchDatabase(travellers: number, database = "mlmesh_bench"): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bench database name ${database}: lower-case letters, digits and _ only`);
  const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => undefined });
  const exists = await admin`select 1 from pg_database where datname = ${database}`;
  if (!exists.length) await admin.unsafe(`create database ${database}`);
  await admin.end();
  const url = `postgres://postgres@127.0.0.1:5432/${database}`;
  const db = await openDatabase({ url, dataDir: "" });
  try {
    await migrate(db.sql);
    const [{ count, vectors, parts }] = await db.sql<{ count: number; vectors: number; parts: number }[]>`
      select count(*)::int as count, count(text_embedding)::int as vectors, count(text_parts)::int as parts from travellers`;
    // A database seeded before travellers had text vectors (or match v2's text parts) is seeded again (a server
    // would backfill them during the run), and match trained on it again (v2).
    if (count !== travellers || vectors !== travellers || parts !== travellers) {
      process.stderr.write(`bench: seeding ${travellers} travellers (once)\n`);
      const started = performance.now();
      await seedTravellers(db, {
        count: travellers,
        seed: 1,
        onProgress: (stage, done, total) => {
          if (done % 100_000 === 0 || done === total) process.stderr.write(`  ${stage} ${done}/${total}\n`);
        },
      });
      process.stderr.write(`bench: seeded in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      await trainFromDatabase(db.sql, { force: true });
    }
    const [{ clustered }] = await db.sql<{ clustered: boolean }[]>`
      select coalesce(bool_or(indisclustered), false) as clustered from pg_index where indexrelid = 'travellers_cell_age'::regclass`;
    if (!clustered) {
      process.stderr.write("bench: laying travellers out by location (once)\n");
      await layOutByLocation(db);
    }
    const [{ events }] = await db.sql<{ events: number }[]>`select count(*)::int as events from activity_events`;
    if (events === 0) {
      process.stderr.write("bench: seeding eight weeks of activity for 50,000 travellers (once)\n");
      await seedActivity(db, { users: Math.min(travellers, 50_000), seed: 1 });
    }
    const [{ destinations }] = await db.sql<{ destinations: number }[]>`select count(*)::int as destinations from destinations`;
    if (destinations !== BENCH_DESTINATIONS) {
      process.stderr.write(`bench: seeding ${BENCH_DESTINATIONS} destinations and their interactions (once)\n`);
      await seedDestinations(db, { destinations: BENCH_DESTINATIONS, users: Math.min(travellers, 50_000), seed: 1 });
      await trainRecommendModel(db.sql, { force: true });
    }
    // Every model promoted, as in production: a server finding none learns it at start (notify: a read of 5,000
    // travellers' activity), which is what the start-up benchmark must not measure.
    if (!(await new ModelRegistry(db.sql).serving(MODELS.notify))) {
      process.stderr.write("bench: training the notify prior (once)\n");
      await trainNotifyPrior(db.sql, { force: true });
    }
    return url;
  } finally {
    await db.close();
  }
}
