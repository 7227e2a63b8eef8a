import { Redis } from "ioredis";

/**
 * Drops the mesh's cache keys from the shared test Redis. Synthetic ids are
 * deterministic, so a cached profile or state from an earlier run (they live
 * an hour) would otherwise answer for this run's fresh database.
 */
export async function clearMeshCaches(prefix: string): Promise<void> {
  const redis = new Redis("redis://127.0.0.1:6379");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
