import { hourOfWeek } from "./local-time.js";

export const CHANNELS = ["push", "email", "sms"] as const;
export type ChannelName = (typeof CHANNELS)[number];
export const NOTIFICATION_TYPES = ["match_found", "message", "reminder"] as const;
export type NotificationTypeName = (typeof NOTIFICATION_TYPES)[number];

export interface ActivityEvent {
  /** A click counts as activity in its hour; the open that came with it is an event of its own. */
  kind: "app_open" | "notification_open" | "notification_click";
  channel?: ChannelName;
  notificationType?: NotificationTypeName;
  /** Epoch milliseconds. */
  at: number;
}

export interface UserPrefs {
  timezone: string;
  quietStartHour: number;
  quietEndHour: number;
}

/** A traveller's engagement, computed from their events; plain JSON, cached in Redis. */
export interface UserState extends UserPrefs {
  /** Recency-weighted activity per local hour of the week (168), smoothed around the clock. */
  hours: number[];
  /** Effective (recency-weighted) number of events behind `hours`. */
  weight: number;
  /** Recency-weighted notification opens per type and channel. */
  opens: Record<NotificationTypeName, Record<ChannelName, number>>;
}

export interface PopulationPrior {
  /** Share of all activity per local hour of the week; sums to 1. */
  hours: number[];
  /** Share of notification opens per channel, per type. */
  channels: Record<NotificationTypeName, Record<ChannelName, number>>;
}

/** How fast old activity fades; chosen on the tuning population of services/notify/eval/tune.ts. */
export const HALF_LIFE_DAYS = 21;
// Neighbouring hours share evidence: someone active at 2pm is likely around at 1pm and 3pm too.
const KERNEL = [0.15, 0.5, 1, 0.5, 0.15];

export function emptyOpens(): Record<NotificationTypeName, Record<ChannelName, number>> {
  return Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, { push: 0, email: 0, sms: 0 }])) as Record<
    NotificationTypeName,
    Record<ChannelName, number>
  >;
}

/** Recency-weighted, circularly smoothed hour-of-week activity and channel opens. */
export function buildUserState(events: readonly ActivityEvent[], prefs: UserPrefs, now: number, halfLifeDays = HALF_LIFE_DAYS): UserState {
  const raw = new Array<number>(168).fill(0);
  const opens = emptyOpens();
  let weight = 0;
  for (const e of events) {
    if (e.at > now) continue;
    const w = 0.5 ** ((now - e.at) / 86_400_000 / halfLifeDays);
    raw[hourOfWeek(e.at, prefs.timezone)] += w;
    weight += w;
    if (e.kind === "notification_open" && e.channel && e.notificationType) opens[e.notificationType][e.channel] += w;
  }
  return { ...prefs, hours: smooth(raw), weight, opens };
}

export function smooth(hours: readonly number[]): number[] {
  const out = new Array<number>(168).fill(0);
  const half = (KERNEL.length - 1) / 2;
  const total = KERNEL.reduce((a, b) => a + b, 0);
  for (let h = 0; h < 168; h++) {
    for (let k = 0; k < KERNEL.length; k++) out[(h + k - half + 168) % 168] += (hours[h] * KERNEL[k]) / total;
  }
  return out;
}

/** The population's habits, from everyone's states: the cold-start answer and the shrinkage target. */
export function populationPrior(states: Iterable<UserState>): PopulationPrior {
  const hours = new Array<number>(168).fill(0);
  const channels = emptyOpens();
  for (const s of states) {
    const sum = s.hours.reduce((a, b) => a + b, 0);
    // Each traveller counts once, whatever their volume, so heavy users do not define "typical".
    if (sum > 0)
      s.hours.forEach((v, h) => {
        hours[h] += v / sum;
      });
    for (const t of Object.keys(channels) as NotificationTypeName[])
      for (const c of Object.keys(channels[t]) as ChannelName[]) channels[t][c] += s.opens[t][c];
  }
  const total = hours.reduce((a, b) => a + b, 0);
  for (const t of Object.keys(channels) as NotificationTypeName[]) {
    const sum = Object.values(channels[t]).reduce((a, b) => a + b, 0);
    for (const c of Object.keys(channels[t]) as ChannelName[]) channels[t][c] = sum ? channels[t][c] / sum : 1 / 3;
  }
  // With no data at all, every hour is as good as another.
  return { hours: hours.map((v) => (total > 0 ? v / total : 1 / 168)), channels };
}
