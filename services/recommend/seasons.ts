/**
 * When a place is worth visiting, as a 12-bit mask (bit m-1 for month m).
 * Climate data does not ship offline, so latitude stands in for it: the
 * tropics are good except for a wet season around local summer, temperate
 * places in their summer (and ski places in their winter too), high
 * latitudes only in their short summer. Hemispheres swap the calendar.
 */
export function goodMonthsOf(latitude: number, skiing: boolean, wetSeasonShift: number): number {
  const abs = Math.abs(latitude);
  const south = latitude < 0;
  // Months counted from local midsummer: 0 is July in the north, January in the south.
  const local = (month: number) => ((south ? month + 6 : month) - 7 + 12) % 12;
  let mask = 0;
  for (let m = 1; m <= 12; m++) {
    const fromSummer = Math.min(local(m), 12 - local(m)); // 0..6 months away from midsummer
    let good: boolean;
    if (abs < 23.5) good = Math.min(Math.abs(local(m) - wetSeasonShift), 12 - Math.abs(local(m) - wetSeasonShift)) > 1;
    else if (abs < 55) good = fromSummer <= 2 || (abs < 40 && fromSummer <= 3) || (skiing && fromSummer >= 5);
    else good = fromSummer <= 1 || (skiing && fromSummer >= 5);
    if (good) mask |= 1 << (m - 1);
  }
  return mask;
}

export function inSeason(mask: number, month: number): boolean {
  return (mask & (1 << (month - 1))) !== 0;
}

export function monthsOf(mask: number): number[] {
  const out: number[] = [];
  for (let m = 1; m <= 12; m++) if (inSeason(mask, m)) out.push(m);
  return out;
}

export function maskOf(months: readonly number[]): number {
  return months.reduce((mask, m) => mask | (1 << (m - 1)), 0);
}
