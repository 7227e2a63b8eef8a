/**
 * Hour of the week (0 = Sunday 00:00) in a traveller's own time zone, DST
 * included: the zone's rules, read from Intl, decide, not a fixed offset.
 *
 * Intl is asked about seventy times per zone and year, not once per event: a
 * zone's UTC offset only changes at its transitions, so the offset is probed
 * once a week (no zone changes twice within a week: Morocco's Ramadan pause,
 * the closest pair, lasts about a month), each change is narrowed down to its
 * quarter hour (every offset and every transition in the tz database is a
 * whole number of quarter hours), and hours are then plain arithmetic.
 */
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const HOUR_MS = 3_600_000;
const QUARTER_HOUR_MS = 900_000;

interface YearRules {
  /** UTC instants from which `offsets[i]` applies, ascending; the first is the year's start. */
  from: number[];
  offsets: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const rules = new Map<string, Map<number, YearRules>>();

export function hourOfWeek(ms: number, timeZone: string): number {
  const local = ms + offsetAt(ms, timeZone);
  const days = Math.floor(local / DAY_MS);
  // 1970-01-01 was a Thursday (4 with Sunday = 0).
  const weekday = (((days + 4) % 7) + 7) % 7;
  const hour = Math.floor((local - days * DAY_MS) / HOUR_MS);
  return weekday * 24 + hour;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
export function offsetAt(ms: number, timeZone: string): number {
  const year = new Date(ms).getUTCFullYear();
  let zone = rules.get(timeZone);
  if (!zone) rules.set(timeZone, (zone = new Map()));
  let r = zone.get(year);
  if (!r) zone.set(year, (r = yearRules(year, timeZone)));
  let i = r.from.length - 1;
  while (i > 0 && r.from[i] > ms) i--;
  return r.offsets[i];
}

function yearRules(year: number, timeZone: string): YearRules {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const from = [start];
  const offsets = [probe(start, timeZone)];
  for (let at = start; at < end; ) {
    const next = Math.min(at + WEEK_MS, end);
    const offset = probe(next, timeZone);
    const before = at;
    at = next;
    if (offset === offsets[offsets.length - 1]) continue;
    // The change happened since the last probe: find its first quarter hour.
    let lo = before; // old offset here
    let hi = next; // new offset here
    while (hi - lo > QUARTER_HOUR_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
      if (probe(mid, timeZone) === offset) hi = mid;
      else lo = mid;
    }
    if (hi < end) {
      from.push(hi);
      offsets.push(offset);
    }
  }
  return { from, offsets };
}

/** The offset at one instant, from Intl's "GMT+05:45" reading of it (GMT alone at UTC). */
function probe(ms: number, timeZone: string): number {
  const text = formatter(timeZone).format(ms);
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(text);
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * HOUR_MS + Number(m[3]) * 60_000);
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
    formatters.set(timeZone, f);
  }
  return f;
}
