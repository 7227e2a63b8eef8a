import type { Sql } from "../runtime/storage/database.js";
import { buildUserState, populationPrior, type ActivityEvent, type PopulationPrior, type UserState } from "./model/engagement.js";

/** The population's habits from up to 5,000 travellers' last 90 days; uniform with no data. */
export async function learnPrior(sql: Sql, now = Date.now()): Promise<PopulationPrior> {
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
    with sample as (select user_id, timezone, quiet_start_hour, quiet_end_hour from user_notification_prefs order by user_id limit 5000)
    select s.user_id::text, s.timezone, s.quiet_start_hour as q1, s.quiet_end_hour as q2, e.kind, e.channel, e.notification_type, e.occurred_at
    from sample s join activity_events e using (user_id)
    where e.occurred_at > ${new Date(now - 90 * 86_400_000)}`;
  const byUser = new Map<string, { prefs: { timezone: string; quietStartHour: number; quietEndHour: number }; events: ActivityEvent[] }>();
  for (const r of rows) {
    let u = byUser.get(r.user_id);
    if (!u) byUser.set(r.user_id, (u = { prefs: { timezone: r.timezone, quietStartHour: r.q1, quietEndHour: r.q2 }, events: [] }));
    u.events.push({
      kind: r.kind,
      channel: r.channel ?? undefined,
      notificationType: r.notification_type ?? undefined,
      at: r.occurred_at.getTime(),
    });
  }
  const states: UserState[] = [...byUser.values()].map((u) => buildUserState(u.events, u.prefs, now));
  return populationPrior(states);
}
