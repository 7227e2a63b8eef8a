// Runs on WorkerPool threads: fitting takes milliseconds of CPU, which must not
// stall the event loop that serves every other call. What the pool calls
// (demand, stockout, reorderPoint) takes its history packed (packed-history.ts).
import { dayNumber } from "./model/calendar.js";
import type { DailyQuantity } from "./model/daily-series.js";
import { forecastDemand, type ForecastResult } from "./model/forecast.js";
import { usHolidays, type Holiday } from "./model/holidays.js";
import { reorderPoint as reorderPointFrom, type ReorderPoint } from "./model/lead-time.js";
import { stockoutFromForecast, type StockoutResult } from "./model/stockout.js";
import { unpackHistory, type PackedHistory } from "./packed-history.js";

export interface HolidayRequest {
  calendar: "US" | undefined;
  dates: string[];
}

export interface ComputeOptions {
  horizonDays: number;
  intervalLevel: number;
  holidays: HolidayRequest;
  /** Only these candidates compete: a stored choice (forecast_model_choices) for the same history and options. */
  candidates?: string[];
}

export function forecast(history: DailyQuantity[], options: ComputeOptions): ForecastResult {
  return forecastDemand(history, { ...options, holidays: resolveHolidays(history, options.holidays) });
}

/** What a ForecastDemand answer reads of a forecast: the rest (backtest, bands) is not sent back from the worker thread. */
export type DemandForecast = Pick<
  ForecastResult,
  "predictions" | "model" | "metrics" | "trainingSamples" | "seasonality" | "intervalLevel"
>;

/** forecast(), less what ForecastDemand does not answer with, which would only be copied between threads. */
export function demand(packed: PackedHistory, options: ComputeOptions): DemandForecast {
  const { predictions, model, metrics, trainingSamples, seasonality, intervalLevel } = forecast(unpackHistory(packed), options);
  return { predictions, model, metrics, trainingSamples, seasonality, intervalLevel };
}

export function stockout(packed: PackedHistory, options: ComputeOptions & { currentStockUnits: number }): StockoutResult {
  const history = unpackHistory(packed);
  const holidays = resolveHolidays(history, options.holidays);
  const f = forecastDemand(history, { ...options, holidays });
  return stockoutFromForecast(f, { ...options, holidays });
}

/** The reorder point and safety stock for a lead time and service level, with the forecast they were read from. */
export function reorderPoint(
  packed: PackedHistory,
  options: ComputeOptions & { leadTimeDays: number; serviceLevel: number },
): ReorderPoint & { forecast: ForecastResult } {
  const history = unpackHistory(packed);
  const f = forecastDemand(history, { ...options, holidays: resolveHolidays(history, options.holidays) });
  return { ...reorderPointFrom(f, options.leadTimeDays, options.serviceLevel), forecast: f };
}

function resolveHolidays(history: DailyQuantity[], request: HolidayRequest): Holiday[] {
  const holidays: Holiday[] = [];
  if (request.calendar === "US" && history.length) {
    const years = history.map((h) => Number(h.date.slice(0, 4))).filter(Number.isFinite);
    holidays.push(...usHolidays(Math.min(...years), Math.max(...years) + 2));
  }
  if (request.dates.length) holidays.push({ name: "custom", days: request.dates.map(dayNumber) });
  return holidays;
}
