import { Redis } from "ioredis";
import { log } from "../log.js";

/**
 * A Redis connection that fails fast while Redis is down (no offline queue),
 * so callers can bypass caches instead of hanging, and that says clearly, once
 * per outage, what is affected.
 */
export function connectRedis(url: string, name: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
    connectionName: `mlmesh-${name}`,
  });
  let down = false;
  redis.on("error", (err: Error) => {
    if (down) return;
    down = true;
    log.warn("Redis unreachable: caches are bypassed and job submission is unavailable until it returns", {
      redis: redactUrl(url),
      error: err.message,
    });
  });
  redis.on("ready", () => {
    if (down) log.info("Redis reachable again", { redis: redactUrl(url) });
    down = false;
  });
  return redis;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}
