import { Redis } from "ioredis";
import { log } from "../log.js";
import { redactUrl } from "./redis.js";

export interface Subscription {
  close(): void;
}

/**
 * Listens on Redis pub/sub channels over a connection of its own (a
 * subscribed connection can do nothing else). Announcements are wake-up calls
 * every area can serve without: while Redis is away the connection retries in
 * the background, the subscription is sent once it connects and again after
 * every reconnect, and what is missed meanwhile is said once per outage.
 */
export function subscribe(
  redisUrl: string,
  channels: readonly string[],
  onMessage: (channel: string, message: string) => void,
  missed: string,
): Subscription {
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(n * 500, 5000),
    connectionName: "mlmesh-subscriber",
  });
  let down = false;
  redis.on("error", () => {
    if (!down) log.warn(`Redis pub/sub unavailable: ${missed}`, { redis: redactUrl(redisUrl) });
    down = true;
  });
  redis.on("ready", () => (down = false));
  redis.on("message", onMessage);
  // Queued until the first connection; ioredis subscribes again after each reconnect.
  redis.subscribe(...channels).catch(() => undefined);
  return { close: () => redis.disconnect() };
}
