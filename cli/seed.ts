import { seedSampleInventory } from "../services/forecast/seed.js";
import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { parseArgs } from "./args.js";
import { ExitCode } from "./exit.js";

export const seedUsage = `mlmesh seed [--sample] [--products N] [--seed N]

Loads deterministic synthetic data into DATABASE_URL (or the embedded PGlite):
the sample inventory (products with three years of daily transactions).
--sample loads the small set \`make dev\` uses.`;

export async function seed(args: string[]): Promise<number> {
  const { options } = parseArgs(args, { sample: "boolean", products: "string", seed: "string" });
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  try {
    await migrate(db.sql);
    const products = Number(options.products ?? (options.sample ? 20 : 200));
    const rows = await seedSampleInventory(db, {
      products,
      seed: Number(options.seed ?? 42),
      endDate: new Date().toISOString().slice(0, 10),
    });
    process.stdout.write(`inventory: ${products} products, ${rows} daily transactions\n`);
    return ExitCode.OK;
  } finally {
    await db.close();
  }
}
