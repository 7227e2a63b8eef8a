import { seedSampleInventory } from "../services/forecast/seed.js";
import { seedTravellers } from "../services/match/seed.js";
import { seedActivity } from "../services/notify/seed.js";
import { seedDestinations } from "../services/recommend/seed.js";
import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { parseArgs } from "./args.js";
import { ExitCode } from "./exit.js";
import { progressBar } from "./progress.js";

export const seedUsage = `mlmesh seed [--travellers N] [--destinations N] [--products N] [--seed N] [--sample]

Loads deterministic synthetic data into DATABASE_URL (or the embedded PGlite), with COPY:
  travellers (default 10,000; 1,000,000 works) and the interactions of up to
  50,000 of them, driven by a hidden preference process;
  eight weeks of app and notification activity of those 50,000, from hidden routines;
  the destination catalogue (default 2,000 real cities; beyond ~7,300, districts of them) and a year
  of views, saves and bookings by those 50,000, from their hidden taste;
  the sample inventory: products with three years of daily transactions (default 200).
--sample loads the small set \`make dev\` uses (2,000 travellers, 20 products).
Replaces earlier synthetic data.`;

export async function seed(args: string[]): Promise<number> {
  const { options } = parseArgs(args, {
    sample: "boolean",
    destinations: "string",
    products: "string",
    seed: "string",
    travellers: "string",
  });
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  const seedValue = Number(options.seed ?? 42);
  try {
    await migrate(db.sql);
    const travellers = Number(options.travellers ?? (options.sample ? 2_000 : 10_000));
    const bar = progressBar(process.stderr);
    const started = performance.now();
    const t = await seedTravellers(db, { count: travellers, seed: seedValue, onProgress: bar.update });
    bar.done();
    process.stdout.write(
      `travellers: ${t.travellers}, interactions: ${t.interactions} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    const events = await seedActivity(db, { users: Math.min(travellers, 50_000), seed: seedValue });
    process.stdout.write(`activity: ${events} events of ${Math.min(travellers, 50_000)} travellers over eight weeks\n`);
    const dest = await seedDestinations(db, {
      destinations: Number(options.destinations ?? 2_000),
      users: Math.min(travellers, 50_000),
      seed: seedValue,
    });
    process.stdout.write(`destinations: ${dest.destinations}, views/saves/bookings: ${dest.interactions}\n`);
    const products = Number(options.products ?? (options.sample ? 20 : 200));
    const rows = await seedSampleInventory(db, { products, seed: seedValue, endDate: new Date().toISOString().slice(0, 10) });
    process.stdout.write(`inventory: ${products} products, ${rows} daily transactions\n`);
    return ExitCode.OK;
  } finally {
    await db.close();
  }
}
