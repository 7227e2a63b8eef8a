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
 * `onResubscribed` runs once the subscription is back after a reconnect: what
 * was announced while it was away is lost, so whoever listens re-reads the
 * state the announcements are about.
 */
export function subscribe(
  redisUrl: string,
  channels: readonly string[],
  onMessage: (channel: string, message: string) => void,
  missed: string,
  onResubscribed?: () => void,
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
  let connected = false;
  let retried = false;
  redis.on("reconnecting", () => (retried = true));
  redis.on("ready", () => {
    // The first connection counts as a return too when a try failed before it: the caller read its
    // state before subscribing, and an outage that began before the first 'ready' hid what followed.
    const returned = connected || retried;
    down = false;
    if (returned && onResubscribed) {
      // ioredis subscribes again itself after 'ready'; this one's answer says the subscription is
      // active, so an announcement made after the re-read below cannot fall between the two.
      redis.subscribe(...channels).then(onResubscribed, () => undefined);
    }
    connected = true;
  });
  redis.on("message", onMessage);
  // Queued until the first connection; ioredis subscribes again after each reconnect.
  redis.subscribe(...channels).catch(() => undefined);
  return { close: () => redis.disconnect() };
}
