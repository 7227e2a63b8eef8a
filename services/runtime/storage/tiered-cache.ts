import type { Redis } from "ioredis";
import { LruCache } from "../lru.js";
import type { MeshMetrics } from "../metrics.js";

export interface TieredCacheOptions {
  /** What a key is stored under in Redis, before the key: `<MLMESH_REDIS_PREFIX>:<area>:<what>:`. In process the key stands alone. */
  redisKeyPrefix: string;
  /** Values kept in process (100,000), and for how long (a minute). */
  localEntries?: number;
  localTtlMs?: number;
  /** How long Redis keeps a value (an hour). */
  ttlSeconds?: number;
}

type Count = { inc(n?: number): void };
const uncounted: Count = { inc: () => undefined };

/**
 * Values computed from PostgreSQL, cached in process and in Redis as JSON.
 * With Redis down a value is computed every time (and the bypass counted);
 * the caller never waits for a cache write, since the value is already in
 * hand. A value that changed is dropped from both (forget), on every server
 * that hears of the change.
 */
export class TieredCache<V> {
  private readonly local: LruCache<V>;
  private readonly redisKeyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly localHits: Count;
  private readonly hits: Count;
  private readonly misses: Count;
  private readonly bypasses: Count;

  /** Counted under `name` in the cache metrics (see get and getMany for how). */
  constructor(
    private readonly redis: Redis,
    metrics: MeshMetrics | undefined,
    name: string,
    options: TieredCacheOptions,
  ) {
    this.local = new LruCache<V>(options.localEntries ?? 100_000, options.localTtlMs ?? 60_000);
    this.redisKeyPrefix = options.redisKeyPrefix;
    this.ttlSeconds = options.ttlSeconds ?? 3600;
    this.localHits = metrics?.cacheHits.labels(`${name}_local`) ?? uncounted;
    this.hits = metrics?.cacheHits.labels(name) ?? uncounted;
    this.misses = metrics?.cacheMisses.labels(name) ?? uncounted;
    this.bypasses = metrics?.cacheBypasses.labels(name) ?? uncounted;
  }

  /**
   * The value, or undefined when `compute` finds none (nothing is cached
   * then). Hits are counted per level, in process as `<name>_local` and in
   * Redis as `<name>`; a miss is one that reached `compute`.
   */
  async get(key: string, compute: () => Promise<V | undefined>): Promise<V | undefined> {
    const local = this.local.get(key);
    if (local !== undefined) {
      this.localHits.inc();
      return local;
    }
    const value = await this.shared(key, compute);
    if (value !== undefined) this.local.set(key, value);
    return value;
  }

  /**
   * Many values at once, keyed as asked; keys `compute` finds nothing for are
   * absent. Synchronous when every key is in process; otherwise one Redis
   * MGET, then one `compute` and one pipelined write-back for what Redis
   * lacks. Counted at the process level: a hit per key found in process, a
   * miss per key that went further.
   */
  getMany(keys: readonly string[], compute: (keys: string[]) => Promise<Map<string, V>>): Map<string, V> | Promise<Map<string, V>> {
    const found = new Map<string, V>();
    const missing: string[] = [];
    for (const key of keys) {
      const v = this.local.get(key);
      if (v !== undefined) found.set(key, v);
      else missing.push(key);
    }
    this.hits.inc(keys.length - missing.length);
    if (missing.length === 0) return found;
    this.misses.inc(missing.length);
    return this.fetchMany(missing, found, compute);
  }

  /** Stores a value computed ahead of time (batch precomputation) in Redis; throws if Redis does. */
  async put(key: string, value: V): Promise<void> {
    await this.redis.set(this.redisKey(key), JSON.stringify(value), "EX", this.ttlSeconds);
  }

  /** Drops a value here and in Redis (what it was computed from changed). */
  forget(key: string): void {
    this.local.delete(key);
    if (this.redis.status === "ready") this.redis.del(this.redisKey(key)).catch(() => undefined);
  }

  private async shared(key: string, compute: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.get(this.redisKey(key));
        if (cached) {
          this.hits.inc();
          return JSON.parse(cached) as V;
        }
      } catch {
        this.bypasses.inc();
      }
    } else {
      this.bypasses.inc();
    }
    this.misses.inc();
    const value = await compute();
    if (value !== undefined && this.redis.status === "ready") {
      this.redis.set(this.redisKey(key), JSON.stringify(value), "EX", this.ttlSeconds).catch(() => undefined);
    }
    return value;
  }

  private async fetchMany(
    keys: string[],
    found: Map<string, V>,
    compute: (keys: string[]) => Promise<Map<string, V>>,
  ): Promise<Map<string, V>> {
    let missing = keys;
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.mget(missing.map((key) => this.redisKey(key)));
        const still: string[] = [];
        missing.forEach((key, i) => {
          const json = cached[i];
          if (json) {
            const v = JSON.parse(json) as V;
            this.local.set(key, v);
            found.set(key, v);
          } else still.push(key);
        });
        missing = still;
      } catch {
        this.bypasses.inc();
      }
    } else {
      this.bypasses.inc();
    }
    if (missing.length === 0) return found;
    const computed = await compute(missing);
    const pipeline = this.redis.status === "ready" ? this.redis.pipeline() : undefined;
    for (const [key, v] of computed) {
      this.local.set(key, v);
      found.set(key, v);
      pipeline?.set(this.redisKey(key), JSON.stringify(v), "EX", this.ttlSeconds);
    }
    await pipeline?.exec().catch(() => this.bypasses.inc());
    return found;
  }

  private redisKey(key: string): string {
    return this.redisKeyPrefix + key;
  }
}
