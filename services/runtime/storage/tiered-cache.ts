import type { Redis } from "ioredis";
import { LruCache } from "../lru.js";
import type { MeshMetrics } from "../metrics.js";

/**
 * Values computed from PostgreSQL, cached in process (a minute) and in Redis
 * as JSON (an hour), under one key for both. Hits are counted as `<name>_local`
 * and `<name>`, misses and bypasses as `<name>`. With Redis down a value is
 * computed every time (and the bypass counted); the caller never waits for a
 * cache write, since the value is already in hand.
 */
export class TieredCache<V> {
  private readonly local = new LruCache<V>(100_000, 60_000);

  constructor(
    private readonly redis: Redis,
    private readonly metrics: MeshMetrics | undefined,
    private readonly name: string,
    private readonly ttlSeconds = 3600,
  ) {}

  /** The value, or undefined when `compute` finds none (nothing is cached then). */
  async get(key: string, compute: () => Promise<V | undefined>): Promise<V | undefined> {
    const local = this.local.get(key);
    if (local !== undefined) {
      this.metrics?.cacheHits.labels(`${this.name}_local`).inc();
      return local;
    }
    const value = await this.shared(key, compute);
    if (value !== undefined) this.local.set(key, value);
    return value;
  }

  /** Stores a value computed ahead of time (batch precomputation) in Redis; throws if Redis does. */
  async put(key: string, value: V): Promise<void> {
    await this.redis.set(key, JSON.stringify(value), "EX", this.ttlSeconds);
  }

  /** Drops a value here and in Redis (what it was computed from changed). */
  forget(key: string): void {
    this.local.delete(key);
    if (this.redis.status === "ready") this.redis.del(key).catch(() => undefined);
  }

  private async shared(key: string, compute: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.get(key);
        if (cached) {
          this.metrics?.cacheHits.labels(this.name).inc();
          return JSON.parse(cached) as V;
        }
      } catch {
        this.metrics?.cacheBypasses.labels(this.name).inc();
      }
    } else {
      this.metrics?.cacheBypasses.labels(this.name).inc();
    }
    this.metrics?.cacheMisses.labels(this.name).inc();
    const value = await compute();
    if (value !== undefined && this.redis.status === "ready") this.redis.set(key, JSON.stringify(value), "EX", this.ttlSeconds).catch(() => undefined);
    return value;
  }
}
