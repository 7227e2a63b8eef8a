import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { log } from "../log.js";
import { projectRoot } from "../paths.js";
import type { Sql } from "./database.js";

export interface Migration {
  /** File name, e.g. "0100_match.sql"; the number orders all services' migrations. */
  readonly version: string;
  readonly sql: string;
}

/** Every services/<area>/migrations/*.sql, in file-name order across services. */
export function findMigrations(root = projectRoot()): Migration[] {
  const servicesDir = join(root, "services");
  const found: Migration[] = [];
  for (const area of readdirSync(servicesDir)) {
    const dir = join(servicesDir, area, "migrations");
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      if (file.endsWith(".sql")) found.push({ version: file, sql: readFileSync(join(dir, file), "utf8") });
    }
  }
  found.sort((a, b) => a.version.localeCompare(b.version));
  const seen = new Set<string>();
  for (const m of found) {
    if (seen.has(m.version)) throw new Error(`two migrations named ${m.version}`);
    seen.add(m.version);
  }
  return found;
}

/**
 * Applies the migrations not applied yet, each in its own transaction, under an
 * advisory lock so that replicas starting together do not race.
 */
export async function migrate(sql: Sql, migrations = findMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727274)`;
    await tx`create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())`;
    const done = new Set((await tx<{ version: string }[]>`select version from schema_migrations`).map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version) values (${m.version})`;
      applied.push(m.version);
      log.info("migration applied", { version: m.version });
    }
  });
  return applied;
}
