/** Calendar days as integers (days since 1970-01-01, UTC), so date arithmetic is exact. */
const DAY_MS = 86_400_000;

/**
 * The day number of a "YYYY-MM-DD" date; NaN for anything else or a date that
 * does not exist (2024-02-30). Read by character codes rather than a RegExp
 * and a Date round trip: a forecast parses every day of its history (a third
 * of a millisecond for three years, a tenth of a fit, the other way).
 */
export function dayNumber(date: string): number {
  if (date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return NaN;
  const y = digits(date, 0, 4);
  const m = digits(date, 5, 2);
  const d = digits(date, 8, 2);
  if (!(m >= 1 && m <= 12 && d >= 1)) return NaN;
  // Date.UTC reads years 0-99 as 1900-1999; the month's length follows the year it reads.
  if (d > daysInMonth(y < 100 ? 1900 + y : y, m)) return NaN;
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

/** The number written by `count` ASCII digits from `at`; NaN when any is not one. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Position in the (tropical) year in [0, 1), continuous across leap years. */
export function yearPhase(day: number): number {
  const x = day / 365.25;
  return x - Math.floor(x);
}
