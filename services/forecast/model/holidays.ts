import { dayNumber } from "./calendar.js";

/** A named holiday and the days it falls on. */
export interface Holiday {
  name: string;
  days: number[];
}

/**
 * US federal holidays (and the days around Christmas and New Year that behave
 * like them), computed from their rules, for callers who ask for the "US"
 * calendar instead of listing dates.
 */
export function usHolidays(fromYear: number, toYear: number): Holiday[] {
  const list = new Map<string, number[]>();
  const add = (name: string, y: number, m: number, d: number) => {
    const day = dayNumber(`${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`);
    list.set(name, [...(list.get(name) ?? []), day]);
  };
  const nthWeekday = (y: number, m: number, weekdayWanted: number, n: number) => {
    const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
    return 1 + ((weekdayWanted - first + 7) % 7) + (n - 1) * 7;
  };
  const lastWeekday = (y: number, m: number, weekdayWanted: number) => {
    const lastDate = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const last = new Date(Date.UTC(y, m - 1, lastDate)).getUTCDay();
    return lastDate - ((last - weekdayWanted + 7) % 7);
  };
  for (let y = fromYear; y <= toYear; y++) {
    add("new_year", y, 1, 1);
    add("new_year_day_2", y, 1, 2);
    add("mlk_day", y, 1, nthWeekday(y, 1, 1, 3));
    add("presidents_day", y, 2, nthWeekday(y, 2, 1, 3));
    add("memorial_day", y, 5, lastWeekday(y, 5, 1));
    add("independence_day", y, 7, 4);
    add("labor_day", y, 9, nthWeekday(y, 9, 1, 1));
    add("columbus_day", y, 10, nthWeekday(y, 10, 1, 2));
    add("veterans_day", y, 11, 11);
    const thanksgiving = nthWeekday(y, 11, 4, 4);
    add("thanksgiving", y, 11, thanksgiving);
    add("day_after_thanksgiving", y, 11, thanksgiving + 1);
    add("christmas_eve", y, 12, 24);
    add("christmas", y, 12, 25);
    add("day_after_christmas", y, 12, 26);
    add("new_years_eve", y, 12, 31);
  }
  return [...list.entries()].map(([name, days]) => ({ name, days }));
}
