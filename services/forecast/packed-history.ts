import type { DailyQuantity } from "./model/daily-series.js";

/**
 * A history as it crosses to a worker thread: every date in one string, with
 * each one's length, and the quantities in one typed array. Copying three
 * values between threads costs a few microseconds; three years as 1,095 small
 * objects cost the structured clone about a millisecond of the calling
 * thread's time and more again to rebuild on the other side. The dates are
 * carried as given (lengths, not a separator, mark where each ends), so the
 * model reads, and names in its errors, exactly what the caller sent.
 */
export interface PackedHistory {
  readonly dates: string;
  readonly dateLengths: Int32Array;
  readonly quantities: Float64Array;
}

const packings = new WeakMap<readonly DailyQuantity[], PackedHistory>();

/**
 * The history packed once per array, however often a call needs it (its cache
 * key, its stored choice's key, the worker thread). Histories are not changed
 * once read, so the packing kept for an array stays true to it.
 */
export function packedHistory(history: readonly DailyQuantity[]): PackedHistory {
  let packed = packings.get(history);
  if (packed === undefined) packings.set(history, (packed = packHistory(history)));
  return packed;
}

export function packHistory(history: readonly DailyQuantity[]): PackedHistory {
  const dateLengths = new Int32Array(history.length);
  const quantities = new Float64Array(history.length);
  const dates: string[] = new Array(history.length);
  for (let i = 0; i < history.length; i++) {
    const { date, quantity } = history[i];
    dates[i] = date;
    dateLengths[i] = date.length;
    quantities[i] = quantity;
  }
  return { dates: dates.join(""), dateLengths, quantities };
}

export function unpackHistory(packed: PackedHistory): DailyQuantity[] {
  const { dates, dateLengths, quantities } = packed;
  const history: DailyQuantity[] = new Array(dateLengths.length);
  let at = 0;
  for (let i = 0; i < dateLengths.length; i++) {
    const end = at + dateLengths[i];
    history[i] = { date: dates.slice(at, end), quantity: quantities[i] };
    at = end;
  }
  return history;
}
