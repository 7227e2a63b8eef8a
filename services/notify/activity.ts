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
 * hours on weekdays and weekends, a second weekday peak of some strength, how
 * active they are, how often one open brings another within the hour, a
 * change of routine part-way (a new job, a new time zone of life) that moves
 * every peak, and the channel they actually open for each kind of
 * notification. Models only see the events, and serving only the stored
 * preferences (time zone, quiet hours): nothing else here may reach a
 * model's state (see prefsOf).
 */
export interface Routine extends UserPrefs {
  userId: string;
  weekdayPeak: number;
  weekendPeak: number;
  /** A second weekday peak (a commute, a lunch break) and its height against the first. */
  secondPeak: number;
  secondWeight: number;
  eventsPerWeek: number;
  /** Chance that an open is followed by another within the hour (sessions come in bursts). */
  burst: number;
  /** When the routine changes, as a share of the generated span (undefined: it does not), and by how many hours its peaks move. */
  changeAt?: number;
  shiftHours: number;
  preferred: Record<NotificationTypeName, ChannelName>;
}

/** What serving knows of a traveller: the stored preferences, never the routine behind them. */
export function prefsOf(routine: Routine): UserPrefs {
  return { timezone: routine.timezone, quietStartHour: routine.quietStartHour, quietEndHour: routine.quietEndHour };
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
    // Drawn after the fields above so the stored preferences stay what they were for every seed.
    ...laterTraits(r, weekdayPeak),
  };
}

function laterTraits(r: Random, weekdayPeak: number) {
  const changes = r.next() < 0.35;
  return {
    secondPeak: (weekdayPeak + r.int(4, 10)) % 24,
    secondWeight: r.next() < 0.5 ? 0.3 + 0.6 * r.next() : 0,
    burst: 0.4 * r.next(),
    changeAt: changes ? 0.55 + 0.4 * r.next() : undefined,
    shiftHours: changes ? r.pick([-3, -2, -1, 1, 2, 3]) : 0,
  };
}

/**
 * How active a routine is at an instant against its busiest hour (at most
 * 1): the peaks (moved once the routine has changed), a floor of stray opens,
 * and almost nothing in quiet hours. `span` is the generated span, which
 * places the change.
 */
export function routineIntensity(routine: Routine, at: number, span: { from: number; to: number }): number {
  const how = hourOfWeek(at, routine.timezone);
  const hour = how % 24;
  const quiet =
    routine.quietStartHour < routine.quietEndHour
      ? hour >= routine.quietStartHour && hour < routine.quietEndHour
      : hour >= routine.quietStartHour || hour < routine.quietEndHour;
  if (quiet) return 0.01 / MAX_INTENSITY;
  const changed = routine.changeAt !== undefined && at >= span.from + routine.changeAt * (span.to - span.from);
  const shift = changed ? routine.shiftHours : 0;
  const weekend = how < 24 || how >= 144;
  const near = (peak: number) => {
    const d = Math.abs(hour - ((peak + shift + 24) % 24));
    const circular = Math.min(d, 24 - d);
    return Math.exp(-(circular * circular) / 2);
  };
  const intensity =
    0.06 + near(weekend ? routine.weekendPeak : routine.weekdayPeak) + (weekend ? 0 : routine.secondWeight * near(routine.secondPeak));
  return intensity / MAX_INTENSITY;
}

const MAX_INTENSITY = 2;

/**
 * Events of one routine between two instants, by rejection sampling of the
 * routine's intensity; an open may bring another within the hour.
 */
export function activityOf(routine: Routine, from: number, to: number, seed: number): ActivityEvent[] {
  const r = new Random((seed ^ fnv1a(routine.userId)) >>> 0);
  const weeks = (to - from) / (7 * 86_400_000);
  const count = Math.round(routine.eventsPerWeek * weeks * (0.7 + 0.6 * r.next()));
  const span = { from, to };
  const events: ActivityEvent[] = [];
  const open = (at: number) => {
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
  };
  while (events.length < count) {
    const at = from + r.next() * (to - from);
    if (r.next() > routineIntensity(routine, at, span)) continue;
    open(at);
    if (r.next() < routine.burst && events.length < count) {
      const again = at + (5 + 50 * r.next()) * 60_000;
      if (again < to) open(again);
    }
  }
  return events.sort((a, b) => a.at - b.at);
}
