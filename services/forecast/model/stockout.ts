import type { DailyQuantity } from "./daily-series.js";
import { InvalidForecastInputError } from "./errors.js";
import { forecastDemand, type ForecastResult } from "./forecast.js";
import type { Holiday } from "./holidays.js";
import { leadTimeDemand, probabilityOfExceeding } from "./lead-time.js";

export interface StockoutOptions {
  currentStockUnits: number;
  horizonDays: number;
  intervalLevel?: number;
  holidays?: readonly Holiday[];
}

export interface StockoutResult {
  /** First day cumulative expected demand exceeds the stock; null when not within the horizon. */
  stockoutDate: string | null;
  daysUntilStockout: number | null;
  /** Probability of running out by the predicted day, or by the horizon's end when none is predicted. */
  confidence: number;
  dailyUsageForecast: number[];
  forecast: ForecastResult;
}

/**
 * When stock runs out: the day cumulative expected demand first exceeds the
 * stock, and how likely running out by then is: the share of the lead-time
 * demand distribution (lead-time.ts, the backtest's actual-to-forecast
 * ratios over windows of the same length, calibrated across its origins;
 * ComputeReorderPoint reads its quantiles) above the stock. Running
 * out within the horizon is not required: "no stockout" is an answer.
 */
export function predictStockout(history: readonly DailyQuantity[], options: StockoutOptions): StockoutResult {
  if (!Number.isFinite(options.currentStockUnits) || options.currentStockUnits < 0) {
    throw new InvalidForecastInputError("current_stock_units", "gte_0", "current_stock_units must be a finite number >= 0");
  }
  return stockoutFromForecast(forecastDemand(history, options), options);
}

export function stockoutFromForecast(forecast: ForecastResult, options: StockoutOptions): StockoutResult {
  const stock = options.currentStockUnits;
  const usage = forecast.predictions.map((p) => p.value);
  let cumulative = 0;
  let stockoutIndex = -1;
  for (let i = 0; i < usage.length; i++) {
    cumulative += usage[i];
    if (cumulative > stock) {
      stockoutIndex = i;
      break;
    }
  }
  const byDay = stockoutIndex >= 0 ? stockoutIndex : usage.length - 1;
  const confidence = probabilityOfExceeding(leadTimeDemand(forecast, byDay + 1), stock);
  return {
    stockoutDate: stockoutIndex >= 0 ? forecast.predictions[stockoutIndex].date : null,
    // Day 0 of the forecast is tomorrow relative to the last day of history.
    daysUntilStockout: stockoutIndex >= 0 ? stockoutIndex + 1 : null,
    confidence,
    dailyUsageForecast: usage,
    forecast,
  };
}
