import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "../../services/runtime/storage/redis.js";
import { TieredCache } from "../../services/runtime/storage/tiered-cache.js";
import { testRedisPrefix } from "../support/scope.js";
import { CleanupGuard, startRedis, type RedisServer } from "../support/servers.js";

// A Redis of this file's own, with an append-only file: one test stops it and starts it again, and
// what it held before must still be there, as a production Redis restarted with AOF keeps it.
let guard: CleanupGuard;
let redisDir: string;
let server: RedisServer | undefined;
let redis: Redis;
let direct: Redis;
let prefix: string;

async function startServer(port?: number): Promise<RedisServer> {
  const s = await startRedis(redisDir, { port, args: ["--appendonly", "yes"] });
  guard.watchRedis(s.child.pid);
  return s;
}

beforeAll(async () => {
  const baseDir = mkdtempSync(join(tmpdir(), "mlmesh-tiered-cache-"));
  guard = new CleanupGuard(baseDir);
  redisDir = mkdtempSync(join(baseDir, "redis-"));
  server = await startServer();
  redis = connectRedis(server.url, "test-cache");
  direct = new Redis(server.url, { maxRetriesPerRequest: 1 });
  direct.on("error", () => undefined);
  prefix = `${testRedisPrefix()}:cache:`;
  await new Promise((resolve) => redis.once("ready", resolve));
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  direct?.disconnect();
  await server?.stop();
  await guard?.finish();
});

/** A computation that waits until released: the read's query, held while the value changes under it. */
function held<V>(value: V): { compute: () => Promise<V>; started: Promise<void>; release: () => void } {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const begun = new Promise<void>((r) => (started = r));
  return {
    compute: async () => {
      started();
      await gate;
      return value;
    },
    started: begun,
    release,
  };
}

describe("a tiered cache", () => {
  it("does not store a value read before an invalidation of its key once the read finishes", async () => {
    const cache = new TieredCache<string>(redis, undefined, "test", { redisKeyPrefix: prefix });
    const read = held("old");
    const answer = cache.get("a", read.compute);
    await read.started;
    cache.forget("a"); // the row changed after the read's query saw it
    read.release();
    expect(await answer).toBe("old"); // what that read saw, but not kept
    expect(await cache.get("a", async () => "new")).toBe("new");
    await expect.poll(() => direct.get(`${prefix}a`)).toBe(JSON.stringify("new"));
  });

  it("does the same for a batch read", async () => {
    const cache = new TieredCache<string>(redis, undefined, "test", { redisKeyPrefix: prefix });
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const begun = new Promise<void>((r) => (started = r));
    const answer = cache.getMany(["b", "c"], async (keys) => {
      started();
      await gate;
      return new Map(keys.map((k) => [k, `old ${k}`]));
    });
    await begun;
    cache.forget("b");
    release();
    expect(await answer).toEqual(
      new Map([
        ["b", "old b"],
        ["c", "old c"],
      ]),
    );
    expect(await cache.getMany(["b", "c"], async (keys) => new Map(keys.map((k) => [k, `new ${k}`])))).toEqual(
      new Map([
        ["b", "new b"],
        ["c", "old c"],
      ]),
    );
    expect(await direct.get(`${prefix}b`)).not.toBe(JSON.stringify("old b"));
  });

  it("deletes what was invalidated while Redis was away from Redis when it returns, before reading it again", async () => {
    const cache = new TieredCache<string>(redis, undefined, "test", { redisKeyPrefix: prefix });
    expect(await cache.get("d", async () => "old")).toBe("old");
    await expect.poll(() => direct.get(`${prefix}d`)).toBe(JSON.stringify("old"));
    const { port } = server!;
    await server!.stop();
    server = undefined;
    await expect.poll(() => redis.status).not.toBe("ready");
    cache.forget("d"); // the change is announced while Redis is down
    server = await startServer(port);
    await expect.poll(() => redis.status, { timeout: 20_000 }).toBe("ready");
    expect(await cache.get("d", async () => "new")).toBe("new");
  }, 60_000);

  it("drops everything here and, once Redis is back, the prefix in Redis, when told changes were missed", async () => {
    const cache = new TieredCache<string>(redis, undefined, "test", { redisKeyPrefix: `${prefix}all:` });
    expect(await cache.get("e", async () => "old")).toBe("old");
    expect(await cache.get("f", async () => "old")).toBe("old");
    await expect.poll(() => direct.exists(`${prefix}all:e`, `${prefix}all:f`)).toBe(2);
    const { port } = server!;
    await server!.stop();
    server = undefined;
    await expect.poll(() => redis.status).not.toBe("ready");
    cache.forgetAll();
    server = await startServer(port);
    await expect.poll(() => redis.status, { timeout: 20_000 }).toBe("ready");
    expect(await cache.get("e", async () => "new")).toBe("new");
    await expect.poll(() => direct.exists(`${prefix}all:f`), { timeout: 20_000 }).toBe(0);
    expect(await cache.get("f", async () => "new")).toBe("new");
  }, 60_000);
});
