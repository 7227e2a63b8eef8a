import { createRequire } from "node:module";
import { fnv1a } from "../numeric/hash.js";
import { Random } from "../numeric/random.js";
import type { Traveller } from "../travellers/index.js";
import {
  CHANNELS,
  NOTIFICATION_TYPES,
  type ActivityEvent,
  type ChannelName,
  type NotificationTypeName,
  type UserPrefs,
} from "./model/engagement.js";
import { hourOfWeek } from "./model/local-time.js";

/**
 * The hidden routine behind a traveller's synthetic activity: their peak
 * hours on weekdays and weekends, how active they are, and the channel they
 * actually open for each kind of notification. Models only see the events.
 */
export interface Routine extends UserPrefs {
  userId: string;
  weekdayPeak: number;
  weekendPeak: number;
  eventsPerWeek: number;
  preferred: Record<NotificationTypeName, ChannelName>;
}

let zones: Map<string, string> | undefined;

/** The time zone of a home city, from the city-timezones dataset. */
export function cityTimeZone(city: string): string {
  if (!zones) {
    const require = createRequire(import.meta.url);
    const raw = require("city-timezones/data/cityMap.json") as { city: string; timezone: string }[];
    zones = new Map();
    for (const c of raw) if (!zones.has(c.city)) zones.set(c.city, c.timezone);
  }
  return zones.get(city) ?? "UTC";
}

export function routineOf(t: Traveller, seed: number, index: number): Routine {
  const r = new Random((seed * 2654435761 + index * 40503) >>> 0);
  const quietStartHour = r.pick([21, 22, 23, 0]);
  const weekdayPeak = r.pick([7, 8, 12, 13, 18, 19, 20, 21]);
  return {
    userId: t.id,
    timezone: cityTimeZone(t.city),
    quietStartHour,
    quietEndHour: r.pick([6, 7, 8]),
    weekdayPeak,
    weekendPeak: r.next() < 0.5 ? weekdayPeak : r.pick([10, 11, 15, 16, 20]),
    // A long tail: many light users, a few heavy ones.
    eventsPerWeek: Math.max(0.3, Math.exp(1.6 + 0.9 * r.gaussian())),
    preferred: Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, r.pick(CHANNELS)])) as Record<NotificationTypeName, ChannelName>,
  };
}

/** Events of one routine between two instants, by rejection sampling of local hours. */
export function activityOf(routine: Routine, from: number, to: number, seed: number): ActivityEvent[] {
  const r = new Random((seed ^ fnv1a(routine.userId)) >>> 0);
  const weeks = (to - from) / (7 * 86_400_000);
  const count = Math.round(routine.eventsPerWeek * weeks * (0.7 + 0.6 * r.next()));
  const events: ActivityEvent[] = [];
  while (events.length < count) {
    const at = from + r.next() * (to - from);
    const how = hourOfWeek(at, routine.timezone);
    const hour = how % 24;
    const weekend = how < 24 || how >= 144;
    const peak = weekend ? routine.weekendPeak : routine.weekdayPeak;
    const d = Math.min(Math.abs(hour - peak), 24 - Math.abs(hour - peak));
    const quiet =
      routine.quietStartHour < routine.quietEndHour
        ? hour >= routine.quietStartHour && hour < routine.quietEndHour
        : hour >= routine.quietStartHour || hour < routine.quietEndHour;
    const intensity = quiet ? 0.01 : 0.06 + Math.exp(-(d * d) / 2);
    if (r.next() > intensity) continue;
    if (r.next() < 0.65) events.push({ kind: "app_open", at });
    else {
      const type = r.pick(NOTIFICATION_TYPES);
      events.push({
        kind: "notification_open",
        at,
        notificationType: type,
        channel: r.next() < 0.8 ? routine.preferred[type] : r.pick(CHANNELS),
      });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}
