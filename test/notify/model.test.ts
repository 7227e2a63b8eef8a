import { describe, expect, it } from "vitest";
import { Random } from "../../services/numeric/random.js";
import { decide, isQuiet } from "../../services/notify/model/decide.js";
import { buildUserState, populationPrior, type ActivityEvent, type UserState } from "../../services/notify/model/engagement.js";
import { hourOfWeek } from "../../services/notify/model/local-time.js";

const H = 3_600_000;
const prefs = { timezone: "Europe/Lisbon", quietStartHour: 22, quietEndHour: 7 };

/** Opens at a given local hour (Lisbon is UTC+0 in winter), every day for `days` days before `now`. */
function dailyOpens(now: number, days: number, utcHour: number, extra: Partial<ActivityEvent> = {}): ActivityEvent[] {
  const start = Math.floor(now / (24 * H)) * 24 * H;
  return Array.from({ length: days }, (_, d) => ({
    kind: "app_open" as const,
    at: start - (d + 1) * 24 * H + utcHour * H + 10 * 60_000,
    ...extra,
  }));
}

const now = Date.UTC(2026, 0, 14, 9, 0); // a Wednesday, 09:00 in Lisbon
const uniformPrior = populationPrior([]);

describe("notification timing model", () => {
  it("reads local hours through the zone's rules, DST included", () => {
    expect(hourOfWeek(Date.UTC(2026, 0, 14, 14), "Europe/Lisbon") % 24).toBe(14); // winter: UTC+0
    expect(hourOfWeek(Date.UTC(2026, 6, 15, 14), "Europe/Lisbon") % 24).toBe(15); // summer: UTC+1
    // The spring-forward night in New York: 06:30 UTC is 01:30 EST, 07:30 UTC is 03:30 EDT.
    expect(hourOfWeek(Date.UTC(2026, 2, 8, 6, 30), "America/New_York") % 24).toBe(1);
    expect(hourOfWeek(Date.UTC(2026, 2, 8, 7, 30), "America/New_York") % 24).toBe(3);
  });

  it("agrees with Intl through a whole year in quarter- and half-hour zones and across their DST changes", () => {
    const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const zones = [
      "Asia/Kathmandu",
      "Australia/Adelaide",
      "Australia/Lord_Howe",
      "America/St_Johns",
      "Europe/London",
      "Pacific/Chatham",
      "Europe/Dublin",
      "America/Santiago",
      "Africa/Casablanca",
    ];
    for (const timeZone of zones) {
      const f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", weekday: "short", hour: "2-digit" });
      // Every 37 minutes, so the checks fall at every offset within a quarter hour.
      for (let ms = Date.UTC(2025, 11, 31); ms < Date.UTC(2027, 0, 2); ms += 37 * 60_000) {
        const parts = Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
        const expected = days.indexOf(parts.weekday) * 24 + (Number(parts.hour) % 24);
        if (hourOfWeek(ms, timeZone) !== expected)
          expect(hourOfWeek(ms, timeZone), `${timeZone} ${new Date(ms).toISOString()}`).toBe(expected);
      }
    }
  });

  it("picks the traveller's own active hour within the window and says so", () => {
    const state = buildUserState(dailyOpens(now, 40, 14), prefs, now);
    const d = decide(state, uniformPrior, { type: "message", urgency: "medium" }, now);
    expect(new Date(d.sendAt).getUTCHours()).toBe(14);
    expect(d.reason).toBe("User most active 2-3pm on weekdays");
    expect(d.coldStart).toBe(false);
    expect(d.confidence).toBeGreaterThan(0.3);
  });

  it("respects urgency windows", () => {
    const state = buildUserState(dailyOpens(now, 40, 20), prefs, now);
    const high = decide(state, uniformPrior, { type: "message", urgency: "high" }, now);
    expect(high.sendAt).toBe(now);
    const medium = decide(state, uniformPrior, { type: "message", urgency: "medium" }, now);
    expect(medium.sendAt - now).toBeLessThanOrEqual(12 * H);
    const low = decide(state, uniformPrior, { type: "message", urgency: "low" }, now);
    expect(low.sendAt - now).toBeLessThanOrEqual(72 * H);
    expect(new Date(low.sendAt).getUTCHours()).toBe(20);
  });

  it("never sends in quiet hours, whatever the request", () => {
    const r = new Random(3);
    const zones = ["Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo"];
    for (let i = 0; i < 400; i++) {
      const p = { timezone: zones[i % zones.length], quietStartHour: r.int(0, 23), quietEndHour: r.int(0, 23) };
      const t = Date.UTC(2026, 0, 1) + Math.floor(r.next() * 300 * 24 * H);
      const state = buildUserState(dailyOpens(t, r.int(0, 30), r.int(0, 23)), p, t);
      for (const urgency of ["low", "medium", "high"] as const) {
        const d = decide(state, uniformPrior, { type: "reminder", urgency }, t);
        const quietAllDay = p.quietStartHour !== p.quietEndHour && (p.quietEndHour - p.quietStartHour + 24) % 24 === 0;
        if (!quietAllDay) expect(isQuiet(hourOfWeek(d.sendAt, p.timezone) % 24, p), `${JSON.stringify(p)} ${urgency}`).toBe(false);
      }
    }
  });

  it("sends urgent notifications when quiet hours end, not during them", () => {
    const night = Date.UTC(2026, 0, 14, 23, 30); // 23:30 in Lisbon
    const d = decide(buildUserState([], prefs, night), uniformPrior, { type: "message", urgency: "high" }, night);
    expect(new Date(d.sendAt).toISOString()).toBe("2026-01-15T07:00:00.000Z");
    expect(d.reason).toMatch(/^Urgent: sending when quiet hours end/);
  });

  it("gives a new traveller the population's best hour, and shrinks thin history toward it", () => {
    const crowd: UserState[] = Array.from({ length: 50 }, () => buildUserState(dailyOpens(now, 30, 19), prefs, now));
    const prior = populationPrior(crowd);
    const fresh = decide(buildUserState([], prefs, now), prior, { type: "match_found", urgency: "medium" }, now);
    expect(fresh.coldStart).toBe(true);
    expect(new Date(fresh.sendAt).getUTCHours()).toBe(19);
    expect(fresh.reason).toMatch(/^New user: travellers are most active 7-8pm/);
    // Two opens at 10:00 are not enough to overrule the crowd; forty are.
    const thin = decide(buildUserState(dailyOpens(now, 2, 10), prefs, now), prior, { type: "message", urgency: "medium" }, now);
    expect(new Date(thin.sendAt).getUTCHours()).toBe(19);
    const thick = decide(buildUserState(dailyOpens(now, 40, 10), prefs, now), prior, { type: "message", urgency: "medium" }, now);
    expect(new Date(thick.sendAt).getUTCHours()).toBe(10);
  });

  it("chooses the channel the traveller opens for that kind of notification", () => {
    const events = [
      ...dailyOpens(now, 20, 14, { kind: "notification_open", channel: "email", notificationType: "reminder" }),
      ...dailyOpens(now, 20, 15, { kind: "notification_open", channel: "sms", notificationType: "match_found" }),
    ];
    const state = buildUserState(events, prefs, now);
    expect(decide(state, uniformPrior, { type: "reminder", urgency: "low" }, now).channel).toBe("email");
    expect(decide(state, uniformPrior, { type: "match_found", urgency: "low" }, now).channel).toBe("sms");
  });
});
