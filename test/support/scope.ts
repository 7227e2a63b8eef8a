import { Redis } from "ioredis";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { expect, inject } from "vitest";

/**
 * What keeps test files apart when they run in parallel: each file gets
 * databases of its own (created fresh, named after the file) and a Redis key
 * prefix of its own (MLMESH_REDIS_PREFIX: cache keys and the models channel),
 * on the run's servers (test/support/global-setup.ts). One file's flush,
 * cached profile or model promotion cannot reach another file's server.
 */

/** The run's PostgreSQL server (its maintenance database); test files use databases of their own on it (testScope). */
export const TEST_SERVER_URL = inject("mlmeshTestDatabaseUrl");
/** The run's Redis server; test files keep to their own key prefix on it (testScope). */
export const TEST_REDIS_URL = inject("mlmeshTestRedisUrl");

const TEST_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The running test file as an identifier: test/match/service.test.ts is "match_service". */
export function testFileSlug(): string {
  const file = expect.getState().testPath;
  if (!file) throw new Error("test/support/scope.ts: no test file is running (call it from a test file, its hooks or tests)");
  return relative(TEST_ROOT, file)
    .replace(/\.test\.[cm]?[jt]s$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** This file's Redis key prefix (MLMESH_REDIS_PREFIX): "test_match_service". */
export function testRedisPrefix(part?: string): string {
  return `test_${testFileSlug()}${part ? `_${part}` : ""}`;
}

/** The URL of database `name` on the run's server. */
export function databaseUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestScope {
  /** A fresh database of this file's own. */
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** This file's MLMESH_REDIS_PREFIX (its cache keys, and the models channel `<prefix>:models`). */
  readonly redisPrefix: string;
  /** DATABASE_URL, REDIS_URL and MLMESH_REDIS_PREFIX: for startTestMesh and for every process a test spawns. */
  readonly env: { DATABASE_URL: string; REDIS_URL: string; MLMESH_REDIS_PREFIX: string };
}

/**
 * A database of this test file's own, dropped and created afresh
 * (mlmesh_test_<file>, or mlmesh_test_<file>_<part> for a second one in the
 * same file), and a Redis prefix of its own, emptied (on a developer's own
 * Redis, keys of an earlier run would otherwise answer for this run's fresh
 * database: synthetic ids are deterministic).
 */
export async function testScope(part?: string): Promise<TestScope> {
  if (part !== undefined && !/^[a-z0-9_]+$/.test(part))
    throw new Error(`testScope: part ${JSON.stringify(part)} must be lower-case letters, digits and _`);
  const url = await createDatabase(`mlmesh_test_${testFileSlug()}${part ? `_${part}` : ""}`);
  const redisPrefix = testRedisPrefix(part);
  await clearMeshCaches(redisPrefix);
  return {
    databaseUrl: url,
    redisUrl: TEST_REDIS_URL,
    redisPrefix,
    env: { DATABASE_URL: url, REDIS_URL: TEST_REDIS_URL, MLMESH_REDIS_PREFIX: redisPrefix },
  };
}

/** Drops database `name` on the run's server if it exists, creates it empty, and returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name))
    throw new Error(`database name ${JSON.stringify(name)}: lower-case letters, digits and _, 63 characters at most`);
  const admin = postgres(TEST_SERVER_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(name);
}

const fileScopes = new Map<string, Promise<TestScope>>();

/** This file's first scope (testScope()), created once: what startTestMesh uses unless told a database. */
export function fileScope(): Promise<TestScope> {
  const slug = testFileSlug();
  let scope = fileScopes.get(slug);
  if (!scope) fileScopes.set(slug, (scope = testScope()));
  return scope;
}

/** Drops the mesh's keys under `prefix` (a scope's redisPrefix), or only those of one area: clearMeshCaches(scope.redisPrefix, "recommend:"). */
export async function clearMeshCaches(prefix: string, area = ""): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:${area}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
