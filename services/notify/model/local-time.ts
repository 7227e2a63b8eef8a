/**
 * Hour of the week (0 = Sunday 00:00) in a traveller's own time zone, DST
 * included, by Intl: the zone's rules decide, not a fixed offset.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", weekday: "short", hour: "2-digit" });
    formatters.set(timeZone, f);
  }
  return f;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

// Every zone's offset and every DST change is a whole number of quarter hours, so the local hour
// cannot change inside a quarter hour of UTC: one Intl call per zone and quarter hour, not per event.
const QUARTER_HOUR_MS = 15 * 60_000;
const MEMO_LIMIT = 200_000;
const memo = new Map<string, Map<number, number>>();

export function hourOfWeek(ms: number, timeZone: string): number {
  const slot = Math.floor(ms / QUARTER_HOUR_MS);
  let zone = memo.get(timeZone);
  if (!zone) memo.set(timeZone, (zone = new Map()));
  let h = zone.get(slot);
  if (h === undefined) {
    if (zone.size >= MEMO_LIMIT) zone.clear();
    h = compute(slot * QUARTER_HOUR_MS, timeZone);
    zone.set(slot, h);
  }
  return h;
}

function compute(ms: number, timeZone: string): number {
  let day = 0;
  let hour = 0;
  for (const p of formatter(timeZone).formatToParts(ms)) {
    if (p.type === "weekday") day = DAYS.indexOf(p.value);
    else if (p.type === "hour") hour = Number(p.value) % 24;
  }
  return day * 24 + hour;
}
