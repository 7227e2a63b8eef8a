import { CHANNELS, type ChannelName, type NotificationTypeName, type PopulationPrior, type UserState } from "./engagement.js";
import { hourOfWeek } from "./local-time.js";

export type UrgencyName = "low" | "medium" | "high";

export interface Decision {
  sendAt: number;
  channel: ChannelName;
  confidence: number;
  reason: string;
  coldStart: boolean;
}

/**
 * Events worth of prior: with fewer than this, the population's habits weigh more than the
 * traveller's. Chosen on the tuning population of services/notify/eval/tune.ts.
 */
export const PRIOR_EVENTS = 15;
const CHANNEL_PRIOR_OPENS = 5;
const WINDOW_HOURS: Record<UrgencyName, number> = { high: 0, medium: 12, low: 72 };

/**
 * When and where to send: within the urgency's window (high: now; medium: 12
 * hours; low: 72 hours), outside quiet hours always, at the hour the
 * traveller is most likely to be active (their hour-of-week profile shrunk
 * toward the population's), on the channel they open most for this kind of
 * notification.
 */
export function decide(
  state: UserState,
  prior: PopulationPrior,
  req: { type: NotificationTypeName; urgency: UrgencyName },
  now: number,
  priorEvents = PRIOR_EVENTS,
): Decision {
  const coldStart = state.weight < 1;
  const posterior = shrink(state, prior, priorEvents);
  const allowed = (ms: number) => !isQuiet(hourOfWeek(ms, state.timezone) % 24, state);
  let sendAt: number | undefined;
  if (req.urgency === "high") {
    sendAt = allowed(now) ? now : nextAllowedHour(now, allowed);
  } else {
    let best = -1;
    const candidates = [now, ...hourStarts(now, WINDOW_HOURS[req.urgency])];
    for (const t of candidates) {
      if (!allowed(t)) continue;
      const score = posterior[hourOfWeek(t, state.timezone)];
      if (score > best + 1e-12) {
        best = score;
        sendAt = t;
      }
    }
    sendAt ??= nextAllowedHour(now, allowed);
  }
  const how = hourOfWeek(sendAt, state.timezone);
  // Of the traveller's activity on that day, the share within an hour of the chosen slot.
  const day = Math.floor(how / 24) * 24;
  let dayMass = 0;
  for (let h = day; h < day + 24; h++) dayMass += posterior[h];
  const near = posterior[(how + 167) % 168] + posterior[how] + posterior[(how + 1) % 168];
  const confidence = dayMass > 0 ? Math.min(1, near / dayMass) : 0;
  return {
    sendAt,
    channel: bestChannel(state, prior, req.type),
    confidence,
    reason: reasonFor(posterior, how, coldStart, req.urgency, sendAt === now),
    coldStart,
  };
}

export function shrink(state: UserState, prior: PopulationPrior, priorEvents = PRIOR_EVENTS): number[] {
  const sum = state.hours.reduce((a, b) => a + b, 0);
  const n = state.weight;
  return state.hours.map((v, h) => ((sum ? (v / sum) * n : 0) + priorEvents * prior.hours[h]) / (n + priorEvents));
}

function bestChannel(state: UserState, prior: PopulationPrior, type: NotificationTypeName): ChannelName {
  const opens = state.opens[type];
  const total = CHANNELS.reduce((a, c) => a + opens[c], 0);
  let best: ChannelName = "push";
  let bestScore = -1;
  for (const c of CHANNELS) {
    const score = (opens[c] + CHANNEL_PRIOR_OPENS * prior.channels[type][c]) / (total + CHANNEL_PRIOR_OPENS);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

export function isQuiet(localHour: number, p: { quietStartHour: number; quietEndHour: number }): boolean {
  const { quietStartHour: s, quietEndHour: e } = p;
  if (s === e) return false;
  return s < e ? localHour >= s && localHour < e : localHour >= s || localHour < e;
}

/** The instant itself when it is outside the traveller's quiet hours, else the first hour after they end. */
export function earliestAllowed(at: number, prefs: { timezone: string; quietStartHour: number; quietEndHour: number }): number {
  const allowed = (ms: number) => !isQuiet(hourOfWeek(ms, prefs.timezone) % 24, prefs);
  return allowed(at) ? at : nextAllowedHour(at, allowed);
}

function hourStarts(now: number, hours: number): number[] {
  const first = Math.ceil(now / 3_600_000) * 3_600_000;
  const out: number[] = [];
  for (let t = first; t <= now + hours * 3_600_000; t += 3_600_000) out.push(t);
  return out;
}

function nextAllowedHour(now: number, allowed: (ms: number) => boolean): number {
  for (const t of hourStarts(now, 48)) if (allowed(t)) return t;
  return now; // quiet all day: the preferences leave no slot; send rather than drop it
}

function reasonFor(posterior: number[], chosen: number, coldStart: boolean, urgency: UrgencyName, immediate: boolean): string {
  const weekend = chosen < 24 || chosen >= 144;
  // The best hour of day over the same kind of day (weekdays or weekends) as the chosen slot.
  const byHour = new Array<number>(24).fill(0);
  for (let h = 0; h < 168; h++) {
    const isWeekend = h < 24 || h >= 144;
    if (isWeekend === weekend) byHour[h % 24] += posterior[h];
  }
  const peak = byHour.indexOf(Math.max(...byHour));
  const who = coldStart ? "New user: travellers are" : "User";
  const habit = `${who} most active ${span(peak)} on ${weekend ? "weekends" : "weekdays"}`;
  if (urgency === "high")
    return immediate
      ? `Urgent: sending now (${habit.charAt(0).toLowerCase()}${habit.slice(1)})`
      : `Urgent: sending when quiet hours end (${habit.charAt(0).toLowerCase()}${habit.slice(1)})`;
  return habit;
}

function span(hour: number): string {
  const fmt = (h: number) => `${h % 12 === 0 ? 12 : h % 12}${h < 12 ? "am" : "pm"}`;
  const a = fmt(hour);
  const b = fmt((hour + 1) % 24);
  return a.slice(-2) === b.slice(-2) ? `${a.slice(0, -2)}-${b}` : `${a}-${b}`;
}
