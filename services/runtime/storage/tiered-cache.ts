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

/** One read of a key in flight; a forget of the key while it runs makes it stale, and its value is then not stored. */
interface Read {
  stale: boolean;
}

// Keys forgotten while Redis was away, deleted there when it returns; past this many, the whole prefix is.
const MAX_UNSENT_DELETES = 10_000;

/**
 * Values computed from PostgreSQL, cached in process and in Redis as JSON.
 * With Redis down a value is computed every time (and the bypass counted);
 * the caller never waits for a cache write, since the value is already in
 * hand. A value that changed is dropped from both (forget), on every server
 * that hears of the change.
 *
 * Two races are closed. A read that began before a forget of its key does
 * not store what it read after it (it may be the old value): every read in
 * flight is marked stale by a forget. A forget while Redis is away cannot
 * delete the Redis copy, which would answer again once Redis returns: such
 * keys are deleted there as soon as it is back, before any read reaches it.
 */
export class TieredCache<V> {
  private readonly local: LruCache<V>;
  private readonly redisKeyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly localHits: Count;
  private readonly hits: Count;
  private readonly misses: Count;
  private readonly bypasses: Count;
  private readonly reading = new Map<string, Set<Read>>();
  /** Keys to delete from Redis when it is back ("all": too many to list, the whole prefix). */
  private unsentDeletes: Set<string> | "all" = new Set();
  /** Set while the whole prefix is being dropped after an outage: Redis is not read meanwhile. */
  private dropping = false;

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
    redis.on("ready", () => this.sendDeletes());
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
    const read = this.begin(key);
    try {
      const value = await this.shared(key, compute, read);
      if (value !== undefined && !read.stale) this.local.set(key, value);
      return value;
    } finally {
      this.end(key, read);
    }
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

  /**
   * Drops a value here and in Redis (what it was computed from changed); reads
   * of it in flight will not store theirs. With Redis away, its copy there is
   * deleted when Redis returns.
   */
  forget(key: string): void {
    for (const read of this.reading.get(key) ?? []) read.stale = true;
    this.local.delete(key);
    if (this.redisUsable()) this.redis.del(this.redisKey(key)).catch(() => this.deleteLater(key));
    else this.deleteLater(key);
  }

  /**
   * Drops every value here and in Redis (changes may have been missed); reads
   * in flight will not store theirs. With Redis away, its copies are dropped
   * when it returns.
   */
  forgetAll(): void {
    for (const reads of this.reading.values()) for (const read of reads) read.stale = true;
    this.local.clear();
    this.unsentDeletes = "all";
    if (this.redis.status === "ready") this.sendDeletes();
  }

  private deleteLater(key: string): void {
    if (this.unsentDeletes === "all") return;
    this.unsentDeletes.add(key);
    if (this.unsentDeletes.size > MAX_UNSENT_DELETES) this.unsentDeletes = "all";
  }

  /**
   * Redis is back: deletes what was forgotten meanwhile. The deletes are sent
   * at once, ahead of any read on this connection; when there were too many to
   * list, Redis is bypassed until the whole prefix is dropped.
   */
  private sendDeletes(): void {
    // A drop under way is followed by another if more was forgotten meanwhile (see its end).
    if (this.dropping) return;
    const unsent = this.unsentDeletes;
    this.unsentDeletes = new Set();
    if (unsent === "all") {
      this.dropping = true;
      void this.dropPrefix().then(
        () => {
          this.dropping = false;
          if (this.unsentDeletes === "all" || this.unsentDeletes.size) this.sendDeletes();
        },
        () => {
          // Redis failed mid-way: drop it all when it is back.
          this.dropping = false;
          this.unsentDeletes = "all";
        },
      );
      return;
    }
    const keys = [...unsent];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      this.redis.del(...batch.map((k) => this.redisKey(k))).catch(() => {
        for (const k of batch) this.deleteLater(k);
      });
    }
  }

  private async dropPrefix(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${this.redisKeyPrefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
      if (keys.length) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  }

  private redisUsable(): boolean {
    return this.redis.status === "ready" && !this.dropping;
  }

  private begin(key: string): Read {
    const read = { stale: false };
    let reads = this.reading.get(key);
    if (!reads) this.reading.set(key, (reads = new Set()));
    reads.add(read);
    return read;
  }

  private end(key: string, read: Read): void {
    const reads = this.reading.get(key);
    reads?.delete(read);
    if (reads?.size === 0) this.reading.delete(key);
  }

  private async shared(key: string, compute: () => Promise<V | undefined>, read: Read): Promise<V | undefined> {
    if (this.redisUsable()) {
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
    if (value !== undefined && !read.stale && this.redisUsable()) {
      this.redis.set(this.redisKey(key), JSON.stringify(value), "EX", this.ttlSeconds).catch(() => undefined);
    }
    return value;
  }

  private async fetchMany(
    keys: string[],
    found: Map<string, V>,
    compute: (keys: string[]) => Promise<Map<string, V>>,
  ): Promise<Map<string, V>> {
    const reads = new Map(keys.map((key) => [key, this.begin(key)]));
    try {
      let missing = keys;
      if (this.redisUsable()) {
        try {
          const cached = await this.redis.mget(missing.map((key) => this.redisKey(key)));
          const still: string[] = [];
          missing.forEach((key, i) => {
            const json = cached[i];
            if (json) {
              const v = JSON.parse(json) as V;
              if (!reads.get(key)!.stale) this.local.set(key, v);
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
      const pipeline = this.redisUsable() ? this.redis.pipeline() : undefined;
      for (const [key, v] of computed) {
        found.set(key, v);
        if (reads.get(key)?.stale !== false) continue;
        this.local.set(key, v);
        pipeline?.set(this.redisKey(key), JSON.stringify(v), "EX", this.ttlSeconds);
      }
      await pipeline?.exec().catch(() => this.bypasses.inc());
      return found;
    } finally {
      for (const [key, read] of reads) this.end(key, read);
    }
  }

  private redisKey(key: string): string {
    return this.redisKeyPrefix + key;
  }
}
