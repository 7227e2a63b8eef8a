import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { TieredCache } from "../runtime/storage/tiered-cache.js";
import { cityTimeZone } from "./activity.js";
import { buildUserState, type ActivityEvent, type UserState } from "./model/engagement.js";

const HISTORY_DAYS = 90;

/** Quiet hours for a traveller who never set any. */
export const DEFAULT_QUIET = { quietStartHour: 22, quietEndHour: 7 };

/**
 * Per-traveller engagement state, computed from PostgreSQL and cached in
 * process (a minute) and in Redis (an hour). New events and changed
 * preferences, whoever writes them, are announced by PostgreSQL and drop both
 * copies on every server (see forget), so they count at once. With Redis down
 * it is computed every time (and the bypass counted).
 */
export class StateStore {
  private readonly cache: TieredCache<UserState>;

  constructor(
    private readonly sql: Sql,
    redis: Redis,
    metrics: MeshMetrics,
    /** MLMESH_REDIS_PREFIX (see key). */
    redisPrefix: string,
  ) {
    this.cache = new TieredCache(redis, metrics, "notify_state", { redisKeyPrefix: statePrefix(redisPrefix) });
  }

  /** Drops a traveller's state here and in Redis (their events or preferences changed). */
  forget(userId: string): void {
    this.cache.forget(userId);
  }

  /** Drops every traveller's state here and in Redis (changes may have been missed). */
  forgetAll(): void {
    this.cache.forgetAll();
  }

  /** The state, or undefined when no such traveller exists. */
  get(userId: string, now: number): Promise<UserState | undefined> {
    return this.cache.get(userId, () => this.compute(userId, now));
  }

  /**
   * One round trip: preferences (or the home city's time zone) and the last
   * 90 days of events, flattened into one text value ("kind channel type
   * epoch-ms", comma-separated): postgres.js decodes text[] in JavaScript, and
   * four arrays per traveller cost more than the query itself.
   */
  async compute(userId: string, now: number): Promise<UserState | undefined> {
    const [row] = await this.sql<
      {
        timezone: string | null;
        quiet_start_hour: number | null;
        quiet_end_hour: number | null;
        city: string | null;
        events: string | null;
      }[]
    >`
      select p.timezone, p.quiet_start_hour, p.quiet_end_hour, t.city, e.events
      from (select ${userId}::uuid as id) u
      left join user_notification_prefs p on p.user_id = u.id
      left join travellers t on t.id = u.id
      left join lateral (
        select string_agg(concat_ws(' ', kind, coalesce(channel, '-'), coalesce(notification_type, '-'),
                                    (extract(epoch from occurred_at) * 1000)::bigint), ',') as events
        from activity_events
        where user_id = u.id and occurred_at > ${new Date(now - HISTORY_DAYS * 86_400_000)} and occurred_at <= ${new Date(now)}
      ) e on true`;
    if (!row || (row.timezone === null && row.city === null)) return undefined;
    const prefs =
      row.timezone !== null
        ? { timezone: row.timezone, quietStartHour: row.quiet_start_hour!, quietEndHour: row.quiet_end_hour! }
        : { timezone: cityTimeZone(row.city!), ...DEFAULT_QUIET };
    const events: ActivityEvent[] = [];
    for (const e of row.events ? row.events.split(",") : []) {
      const [kind, channel, type, at] = e.split(" ");
      events.push({
        kind: kind as ActivityEvent["kind"],
        channel: channel === "-" ? undefined : (channel as ActivityEvent["channel"]),
        notificationType: type === "-" ? undefined : (type as ActivityEvent["notificationType"]),
        at: Number(at),
      });
    }
    return buildUserState(events, prefs, now);
  }
}

/** Stores an event; PostgreSQL announces it, and every server drops the traveller's cached state. */
export async function recordActivity(sql: Sql, userId: string, event: ActivityEvent): Promise<void> {
  await sql`insert into activity_events (user_id, kind, channel, notification_type, occurred_at)
            values (${userId}, ${event.kind}, ${event.channel ?? null}, ${event.notificationType ?? null}, ${new Date(event.at)})`;
}

/** Where a traveller's state is cached in Redis; `redisPrefix` is MLMESH_REDIS_PREFIX. */
export function key(redisPrefix: string, userId: string): string {
  return statePrefix(redisPrefix) + userId;
}

function statePrefix(redisPrefix: string): string {
  return `${redisPrefix}:notify:state:`;
}
