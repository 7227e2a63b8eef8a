import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { CleanupGuard, removeDir, startPostgres, startRedis, type PostgresServer, type RedisServer } from "./servers.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL server's maintenance database (postgres://…/postgres): each test file creates its own databases there. */
    mlmeshTestDatabaseUrl: string;
    /** A Redis server: each test file keeps to its own key prefix there. */
    mlmeshTestRedisUrl: string;
  }
}

/**
 * The run's own PostgreSQL and Redis, on ports they bind themselves, stopped
 * and removed at the end; a developer's running servers are neither needed
 * nor touched. TEST_DATABASE_URL (a server's maintenance database, trust auth)
 * and TEST_REDIS_URL point the tests at servers of your own instead: with
 * both set, nothing is started. The URLs reach the test files through
 * vitest's provide/inject (test/support/scope.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const givenDatabase = process.env.TEST_DATABASE_URL?.trim() || undefined;
  const givenRedis = process.env.TEST_REDIS_URL?.trim() || undefined;
  if (givenDatabase && givenRedis) {
    project.provide("mlmeshTestDatabaseUrl", givenDatabase);
    project.provide("mlmeshTestRedisUrl", givenRedis);
    return async () => undefined;
  }

  const dir = mkdtempSync(join(tmpdir(), "mlmesh-test-"));
  const guard = new CleanupGuard(dir);
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  const teardown = async () => {
    const problems: unknown[] = [];
    // Referenced again: waiting for an unreferenced child's exit would not keep this process alive to see it.
    redis?.child.ref();
    await redis?.stop().catch((err: unknown) => problems.push(err));
    await postgres?.stop().catch((err: unknown) => problems.push(err));
    removeDir(dir);
    await guard.finish();
    if (problems.length) throw new AggregateError(problems, "the test run's private servers did not stop cleanly");
  };
  try {
    // One after the other: on 2 cores, initdb and a starting Redis only slow each other.
    if (!givenRedis) {
      redis = await startRedis(dir);
      guard.watchRedis(redis.child.pid);
      // The child and its pipes must not keep vitest's process alive; the guard and teardown stop it.
      redis.child.unref();
      (redis.child.stdout as unknown as { unref(): void }).unref();
      (redis.child.stderr as unknown as { unref(): void }).unref();
    }
    if (!givenDatabase) postgres = await startPostgres(dir);
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  project.provide("mlmeshTestDatabaseUrl", givenDatabase ?? postgres!.url);
  project.provide("mlmeshTestRedisUrl", givenRedis ?? redis!.url);
  return teardown;
}
