import { dayNumber } from "./calendar.js";
import { InsufficientDataError, InvalidForecastInputError } from "./errors.js";

export interface DailyQuantity {
  date: string;
  quantity: number;
}

export const MIN_HISTORY_DAYS = 30;

/** A gap-free daily series: missing days are days without demand. */
export interface DailySeries {
  /** Day number of the first value. */
  start: number;
  values: Float64Array;
  /** Distinct days that had a record. */
  recordedDays: number;
}

/**
 * Sorts, sums duplicates, fills gaps with zero, and checks the input. Day
 * numbers go into a typed array and quantities straight into their day's
 * slot, in the order given (a Map of days cost a twentieth of a forecast).
 */
export function toDailySeries(history: readonly DailyQuantity[]): DailySeries {
  const days = new Float64Array(history.length);
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < history.length; i++) {
    const h = history[i];
    const day = dayNumber(h.date);
    if (!Number.isFinite(day)) {
      throw new InvalidForecastInputError(
        `transaction_data[${i}].date`,
        "date",
        `transaction_data[${i}].date must be a calendar date YYYY-MM-DD, got ${JSON.stringify(h.date)}`,
      );
    }
    if (!Number.isFinite(h.quantity) || h.quantity < 0) {
      throw new InvalidForecastInputError(
        `transaction_data[${i}].quantity`,
        "gte_0",
        `transaction_data[${i}].quantity must be a finite number >= 0`,
      );
    }
    days[i] = day;
    if (day < first) first = day;
    if (day > last) last = day;
  }
  const recordedDays = distinct(days);
  if (recordedDays < MIN_HISTORY_DAYS) throw new InsufficientDataError(MIN_HISTORY_DAYS, recordedDays);
  const length = last - first + 1;
  if (length > 40 * 366) {
    throw new InvalidForecastInputError("transaction_data", "span", "transaction_data spans more than 40 years");
  }
  const values = new Float64Array(length);
  for (let i = 0; i < history.length; i++) values[days[i] - first] += history[i].quantity;
  return { start: first, values, recordedDays };
}

/** How many different numbers a (finite) array holds. */
function distinct(xs: Float64Array): number {
  // A history sent in order, one record a day (the usual case), is counted without sorting a copy.
  let increasing = true;
  for (let i = 1; i < xs.length && increasing; i++) increasing = xs[i] > xs[i - 1];
  if (increasing) return xs.length;
  const sorted = Float64Array.from(xs).sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) count++;
  return count;
}
