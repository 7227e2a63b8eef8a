/** Calendar days as integers (days since 1970-01-01, UTC), so date arithmetic is exact. */
const DAY_MS = 86_400_000;

export function dayNumber(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms);
  // Reject dates that roll over (2024-02-30).
  if (back.getUTCDate() !== Number(m[3]) || back.getUTCMonth() !== Number(m[2]) - 1) return NaN;
  return ms / DAY_MS;
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
