import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { TieredCache } from "../runtime/storage/tiered-cache.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { loadTravellers, toProfile } from "./store/profiles.js";

/**
 * Per-traveller features, in process (200,000 for ten minutes) and in Redis
 * (an hour), so scoring a pair rarely touches PostgreSQL. A changed or removed
 * profile, whoever changed it, is announced by PostgreSQL and every server
 * drops it (see forget). With Redis down, lookups go to PostgreSQL and the
 * bypass is counted.
 */
export class ProfileCache {
  private readonly cache: TieredCache<ProfileFeatures>;

  constructor(
    private readonly sql: Sql,
    redis: Redis,
    metrics: MeshMetrics,
    /** MLMESH_REDIS_PREFIX: profiles live under `<prefix>:match:profile:<id>`. */
    redisPrefix: string,
  ) {
    this.cache = new TieredCache(redis, metrics, "match_profile", {
      redisKeyPrefix: `${redisPrefix}:match:profile:`,
      localEntries: 200_000,
      localTtlMs: 10 * 60_000,
    });
  }

  /** Profiles by id; ids not found are absent from the map. Synchronous when every id is in process. */
  get(ids: readonly string[]): Map<string, ProfileFeatures> | Promise<Map<string, ProfileFeatures>> {
    return this.cache.getMany(
      ids,
      async (missing) => new Map((await loadTravellers(this.sql, missing)).map((row) => [row.id, toProfile(row)])),
    );
  }

  /** Drops a profile here and in Redis (it changed). */
  forget(id: string): void {
    this.cache.forget(id);
  }

  /** Drops every profile here and in Redis (changes may have been missed). */
  forgetAll(): void {
    this.cache.forgetAll();
  }
}
