import type { Database } from "../runtime/storage/database.js";
import { generatePopulation } from "../travellers/index.js";
import { activityOf, routineOf } from "./activity.js";

/**
 * Eight weeks of synthetic activity (ending now) and notification preferences
 * for the first travellers of the population (the same ids as the match seed).
 */
export async function seedActivity(db: Database, options: { users: number; seed: number; now?: number }): Promise<number> {
  const now = options.now ?? Date.now();
  const from = now - 56 * 86_400_000;
  await db.sql`truncate user_notification_prefs, activity_events`;
  const routines = [...generatePopulation({ count: options.users, seed: options.seed })].map((m, i) =>
    routineOf(m.traveller, options.seed, i),
  );
  await db.copyIn(
    "user_notification_prefs",
    ["user_id", "timezone", "quiet_start_hour", "quiet_end_hour"],
    routines.map((r) => `${r.userId}\t${r.timezone}\t${r.quietStartHour}\t${r.quietEndHour}\n`),
  );
  function* lines() {
    for (const r of routines) {
      for (const e of activityOf(r, from, now, options.seed)) {
        yield `${r.userId}\t${e.kind}\t${e.channel ?? "\\N"}\t${e.notificationType ?? "\\N"}\t${new Date(e.at).toISOString()}\n`;
      }
    }
  }
  return db.copyIn("activity_events", ["user_id", "kind", "channel", "notification_type", "occurred_at"], lines());
}
