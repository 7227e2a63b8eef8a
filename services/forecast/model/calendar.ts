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
  const year = y < 100 ? 1900 + y : y;
  if (d > daysInMonth(year, m)) return NaN;
  // What Date.UTC(y, m - 1, d) / DAY_MS gives, without building a time value per day of history.
  return daysFromCivil(year, m, d);
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): eras of 400 years, the year starting in March so the leap
 * day comes last.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
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

/** The "YYYY-MM-DD" of a day number, as Date's toISOString writes it. */
export function formatDay(day: number): string {
  // Years 0000-9999 by arithmetic (each prediction names its day); the rest as Date writes them (+010000-...).
  if (!(Number.isInteger(day) && day >= FIRST_DAY && day <= LAST_DAY)) return new Date(day * DAY_MS).toISOString().slice(0, 10);
  // Hinnant's civil_from_days, the inverse of daysFromCivil.
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** 0000-01-01 and 9999-12-31: the days formatDay writes by arithmetic. */
const FIRST_DAY = -719528;
const LAST_DAY = 2932896;

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : "0000".slice(0, width - s.length) + s;
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
