import type { Sql } from "../runtime/storage/database.js";
import { buildUserState, populationPrior, type ActivityEvent, type PopulationPrior, type UserPrefs } from "./model/engagement.js";

/** How far back the population's habits are read. */
export const PRIOR_HISTORY_DAYS = 90;

/** One traveller's preferences and recent events, as the prior is learned from them. */
export interface TravellerActivity {
  userId: string;
  prefs: UserPrefs;
  events: ActivityEvent[];
}

/** Up to `sample` travellers (5,000 by default) with their last 90 days of activity. */
export async function loadActivitySample(sql: Sql, now = Date.now(), sample = 5000): Promise<TravellerActivity[]> {
  const rows = await sql<
    {
      user_id: string;
      timezone: string;
      q1: number;
      q2: number;
      kind: ActivityEvent["kind"];
      channel: ActivityEvent["channel"] | null;
      notification_type: ActivityEvent["notificationType"] | null;
      occurred_at: Date;
    }[]
  >`
    with sample as (select user_id, timezone, quiet_start_hour, quiet_end_hour from user_notification_prefs order by user_id limit ${sample})
    select s.user_id::text, s.timezone, s.quiet_start_hour as q1, s.quiet_end_hour as q2, e.kind, e.channel, e.notification_type, e.occurred_at
    from sample s join activity_events e using (user_id)
    where e.occurred_at > ${new Date(now - PRIOR_HISTORY_DAYS * 86_400_000)}`;
  const byUser = new Map<string, TravellerActivity>();
  for (const r of rows) {
    let u = byUser.get(r.user_id);
    if (!u)
      byUser.set(
        r.user_id,
        (u = { userId: r.user_id, prefs: { timezone: r.timezone, quietStartHour: r.q1, quietEndHour: r.q2 }, events: [] }),
      );
    u.events.push({
      kind: r.kind,
      channel: r.channel ?? undefined,
      notificationType: r.notification_type ?? undefined,
      at: r.occurred_at.getTime(),
    });
  }
  return [...byUser.values()];
}

/** The population's prior from the given travellers' activity; uniform with none. */
export function priorOf(travellers: readonly TravellerActivity[], now: number): PopulationPrior {
  return populationPrior(travellers.map((u) => buildUserState(u.events, u.prefs, now)));
}

/** The population's habits from up to 5,000 travellers' last 90 days; uniform with no data. */
export async function learnPrior(sql: Sql, now = Date.now()): Promise<PopulationPrior> {
  return priorOf(await loadActivitySample(sql, now), now);
}
