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

/** Sorts, sums duplicates, fills gaps with zero, and checks the input. */
export function toDailySeries(history: readonly DailyQuantity[]): DailySeries {
  const byDay = new Map<number, number>();
  history.forEach((h, i) => {
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
    byDay.set(day, (byDay.get(day) ?? 0) + h.quantity);
  });
  if (byDay.size < MIN_HISTORY_DAYS) throw new InsufficientDataError(MIN_HISTORY_DAYS, byDay.size);
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const start = days[0];
  const length = days[days.length - 1] - start + 1;
  if (length > 40 * 366) {
    throw new InvalidForecastInputError("transaction_data", "span", "transaction_data spans more than 40 years");
  }
  const values = new Float64Array(length);
  for (const [day, q] of byDay) values[day - start] = q;
  return { start, values, recordedDays: byDay.size };
}
