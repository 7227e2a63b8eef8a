import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { LruCache } from "../runtime/lru.js";
import { loadTravellers, toProfile } from "./store/profiles.js";

/**
 * Per-traveller features, in process (LRU) and in Redis, so scoring a pair
 * rarely touches PostgreSQL. A changed or removed profile, whoever changed
 * it, is announced by PostgreSQL and every server drops it (see forget).
 * With Redis down, lookups go to PostgreSQL and the bypass is counted.
 */
export class ProfileCache {
  private readonly local: LruCache<ProfileFeatures>;
  private readonly hits: { inc(n?: number): void };
  private readonly misses: { inc(n?: number): void };
  private readonly keyPrefix: string;

  constructor(
    private readonly sql: Sql,
    private readonly redis: Redis,
    private readonly metrics: MeshMetrics,
    /** `redisPrefix` is MLMESH_REDIS_PREFIX: profiles live under `<prefix>:match:profile:<id>`. */
    options: { maxEntries: number; ttlMs: number; redisPrefix: string },
  ) {
    this.local = new LruCache(options.maxEntries, options.ttlMs);
    this.keyPrefix = `${options.redisPrefix}:match:profile:`;
    this.hits = metrics.cacheHits.labels("match_profile");
    this.misses = metrics.cacheMisses.labels("match_profile");
  }


  /** Profiles by id; ids not found are absent from the map. Synchronous when every id is in process. */
  get(ids: readonly string[]): Map<string, ProfileFeatures> | Promise<Map<string, ProfileFeatures>> {
    const found = new Map<string, ProfileFeatures>();
    const missing: string[] = [];
    for (const id of ids) {
      const p = this.local.get(id);
      if (p) found.set(id, p);
      else missing.push(id);
    }
    this.hits.inc(ids.length - missing.length);
    if (missing.length === 0) return found;
    this.misses.inc(missing.length);
    return this.fetch(missing, found);
  }

  private async fetch(ids: string[], found: Map<string, ProfileFeatures>): Promise<Map<string, ProfileFeatures>> {
    let missing = ids;
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.mget(missing.map((id) => this.redisKey(id)));
        const still: string[] = [];
        missing.forEach((id, i) => {
          const json = cached[i];
          if (json) {
            const p = JSON.parse(json) as ProfileFeatures;
            this.local.set(id, p);
            found.set(id, p);
          } else still.push(id);
        });
        missing = still;
      } catch {
        this.metrics.cacheBypasses.labels("match_profile").inc();
      }
    } else {
      this.metrics.cacheBypasses.labels("match_profile").inc();
    }
    if (missing.length === 0) return found;
    const rows = await loadTravellers(this.sql, missing);
    const pipeline = this.redis.status === "ready" ? this.redis.pipeline() : undefined;
    for (const row of rows) {
      const p = toProfile(row);
      this.local.set(p.id, p);
      found.set(p.id, p);
      pipeline?.set(this.redisKey(p.id), JSON.stringify(p), "EX", 3600);
    }
    await pipeline?.exec().catch(() => this.metrics.cacheBypasses.labels("match_profile").inc());
    return found;
  }

  /** Drops a profile here and in Redis (it changed). */
  forget(id: string): void {
    this.local.delete(id);
    if (this.redis.status === "ready") this.redis.del(this.redisKey(id)).catch(() => undefined);
  }

  private redisKey(id: string): string {
    return this.keyPrefix + id;
  }
}
