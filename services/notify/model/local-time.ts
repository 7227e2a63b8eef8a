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

export function hourOfWeek(ms: number, timeZone: string): number {
  let day = 0;
  let hour = 0;
  for (const p of formatter(timeZone).formatToParts(ms)) {
    if (p.type === "weekday") day = DAYS.indexOf(p.value);
    else if (p.type === "hour") hour = Number(p.value) % 24;
  }
  return day * 24 + hour;
}
