import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { findMigrations, migrate } from "../../services/runtime/storage/migrations.js";
import { fileScope } from "../support/scope.js";

async function exercise(db: Database, table: string) {
  await db.sql.unsafe(`drop table if exists ${table}`);
  await db.sql.unsafe(`create table ${table} (name text, n int)`);
  const rows = (function* () {
    for (let i = 0; i < 5000; i++) yield `row\\t${i}\t${i}\n`;
  })();
  expect(await db.copyIn(table, ["name", "n"], rows)).toBe(5000);
  const [{ count, total }] = await db.sql.unsafe(`select count(*)::int as count, sum(n)::int as total from ${table}`);
  expect(count).toBe(5000);
  expect(total).toBe((4999 * 5000) / 2);
  const [{ name }] = await db.sql.unsafe(`select name from ${table} where n = 7`);
  expect(name).toBe("row\t7"); // COPY text escapes survive
  await db.sql.unsafe(`drop table ${table}`);
}

describe("storage", () => {
  it("bulk-loads with COPY on PostgreSQL", async () => {
    const db = await openDatabase({ url: (await fileScope()).databaseUrl, dataDir: "" });
    try {
      expect(await db.ping()).toBe(true);
      await exercise(db, "copy_probe_pg");
    } finally {
      await db.close();
    }
  });

  it("runs every migration and bulk-loads on embedded PGlite when no DATABASE_URL is set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlmesh-pglite-"));
    const db = await openDatabase({ url: undefined, dataDir: dir });
    try {
      expect(db.kind).toBe("pglite");
      const applied = await migrate(db.sql);
      expect(applied).toEqual(findMigrations().map((m) => m.version));
      expect(await migrate(db.sql)).toEqual([]);
      await exercise(db, "copy_probe_lite");
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bulk load failures", () => {
  it("rejects, and does not hang, when PostgreSQL refuses a row after the last one was sent", async () => {
    const db = await openDatabase({ url: (await fileScope()).databaseUrl, dataDir: "" });
    try {
      await db.sql`drop table if exists copy_probe_dup`;
      await db.sql`create table copy_probe_dup (a int primary key)`;
      const rows = (function* () {
        for (let i = 0; i < 50_000; i++) yield `${i === 49_990 ? 7 : i}\n`;
      })();
      await expect(db.copyIn("copy_probe_dup", ["a"], rows)).rejects.toThrow(/rejected by PostgreSQL|loaded 0 of|duplicate key/);
      expect((await db.sql`select count(*)::int as n from copy_probe_dup`)[0].n).toBe(0);
      await db.sql`drop table copy_probe_dup`;
    } finally {
      await db.close();
    }
  });
});
