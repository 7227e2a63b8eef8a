import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { cityTimeZone } from "./activity.js";
import { buildUserState, type ActivityEvent, type UserState } from "./model/engagement.js";

const TTL_SECONDS = 3600;
const HISTORY_DAYS = 90;

/** Quiet hours for a traveller who never set any. */
export const DEFAULT_QUIET = { quietStartHour: 22, quietEndHour: 7 };

/**
 * Per-traveller engagement state, computed from PostgreSQL and cached in Redis
 * for an hour; recordActivity drops it, so new events count at once. With
 * Redis down it is computed every time (and the bypass counted).
 */
export class StateStore {
  constructor(
    private readonly sql: Sql,
    private readonly redis: Redis,
    private readonly metrics: MeshMetrics,
  ) {}

  /** The state, or undefined when no such traveller exists. */
  async get(userId: string, now: number): Promise<UserState | undefined> {
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.get(key(userId));
        if (cached) {
          this.metrics.cacheHits.labels("notify_state").inc();
          return JSON.parse(cached) as UserState;
        }
      } catch {
        this.metrics.cacheBypasses.labels("notify_state").inc();
      }
    } else {
      this.metrics.cacheBypasses.labels("notify_state").inc();
    }
    this.metrics.cacheMisses.labels("notify_state").inc();
    const state = await this.compute(userId, now);
    if (state && this.redis.status === "ready") await this.redis.set(key(userId), JSON.stringify(state), "EX", TTL_SECONDS).catch(() => undefined);
    return state;
  }

  async compute(userId: string, now: number): Promise<UserState | undefined> {
    const [prefs] = await this.sql<{ timezone: string; quiet_start_hour: number; quiet_end_hour: number }[]>`
      select timezone, quiet_start_hour, quiet_end_hour from user_notification_prefs where user_id = ${userId}`;
    let p;
    if (prefs) p = { timezone: prefs.timezone, quietStartHour: prefs.quiet_start_hour, quietEndHour: prefs.quiet_end_hour };
    else {
      const [t] = await this.sql<{ city: string }[]>`select city from travellers where id = ${userId}`;
      if (!t) return undefined;
      p = { timezone: cityTimeZone(t.city), ...DEFAULT_QUIET };
    }
    const rows = await this.sql<{ kind: ActivityEvent["kind"]; channel: ActivityEvent["channel"] | null; notification_type: ActivityEvent["notificationType"] | null; occurred_at: Date }[]>`
      select kind, channel, notification_type, occurred_at from activity_events
      where user_id = ${userId} and occurred_at > ${new Date(now - HISTORY_DAYS * 86_400_000)} and occurred_at <= ${new Date(now)}`;
    const events = rows.map((r) => ({ kind: r.kind, channel: r.channel ?? undefined, notificationType: r.notification_type ?? undefined, at: r.occurred_at.getTime() }));
    return buildUserState(events, p, now);
  }
}

/** Stores an event and drops the traveller's cached state so the next decision sees it. */
export async function recordActivity(sql: Sql, redis: Redis, userId: string, event: ActivityEvent): Promise<void> {
  await sql`insert into activity_events (user_id, kind, channel, notification_type, occurred_at)
            values (${userId}, ${event.kind}, ${event.channel ?? null}, ${event.notificationType ?? null}, ${new Date(event.at)})`;
  await redis.del(key(userId)).catch(() => undefined);
}

function key(userId: string): string {
  return `mlmesh:notify:state:${userId}`;
}
