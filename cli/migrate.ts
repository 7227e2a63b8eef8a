import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate as applyMigrations } from "../services/runtime/storage/migrations.js";
import { ExitCode } from "./exit.js";

export const migrateUsage = `mlmesh migrate

Applies the SQL migrations of every service (services/*/migrations) to
DATABASE_URL, or to the embedded PGlite under MLMESH_DATA_DIR when unset.`;

export async function migrate(): Promise<number> {
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 1 });
  try {
    const applied = await applyMigrations(db.sql);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "up to date\n");
    return ExitCode.OK;
  } finally {
    await db.close();
  }
}
