import { Random } from "../../numeric/random.js";
import type { DailyQuantity } from "./daily-series.js";
import { InvalidForecastInputError } from "./errors.js";
import { forecastDemand, fromSpace, type ForecastResult } from "./forecast.js";
import type { Holiday } from "./holidays.js";

export interface StockoutOptions {
  currentStockUnits: number;
  horizonDays: number;
  intervalLevel?: number;
  holidays?: readonly Holiday[];
  /** Simulated demand paths; more is smoother and slower. */
  paths?: number;
  seed?: number;
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
 * stock, and how likely running out by then is, from demand paths simulated by
 * resampling the model's own backtest errors at each horizon step. Running
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
  const confidence = probabilityOfRunningOut(forecast, stock, byDay, options.paths ?? 2000, options.seed ?? 1);
  return {
    stockoutDate: stockoutIndex >= 0 ? forecast.predictions[stockoutIndex].date : null,
    // Day 0 of the forecast is tomorrow relative to the last day of history.
    daysUntilStockout: stockoutIndex >= 0 ? stockoutIndex + 1 : null,
    confidence,
    dailyUsageForecast: usage,
    forecast,
  };
}

function probabilityOfRunningOut(forecast: ForecastResult, stock: number, byDay: number, paths: number, seed: number): number {
  const rng = new Random(seed);
  const random = () => rng.next();
  const { residuals } = forecast.bands;
  const steps = residuals[0]?.length ?? 0;
  const origins = residuals.length;
  // Point forecasts back in the model's own space, where residuals add.
  const centre = forecast.predictions.map((p) => (forecast.space === "log" ? Math.log1p(p.value) : p.value));
  let ranOut = 0;
  // Errors persist from day to day (a level that is off stays off), so resample
  // them in week-long blocks of consecutive backtest steps, not day by day.
  const block = 7;
  const window = Math.max(3, Math.floor(steps / 6));
  for (let path = 0; path < paths; path++) {
    let used = 0;
    let origin = 0;
    let offset = 0;
    for (let s = 0; s <= byDay; s++) {
      let noise = 0;
      if (steps > 0) {
        if (s % block === 0) {
          origin = Math.floor(random() * origins);
          offset = Math.floor((random() * 2 - 1) * window);
        }
        const step = Math.max(0, Math.min(steps - 1, Math.min(s, steps - 1) + offset));
        noise = residuals[origin][step] * (s >= steps ? Math.sqrt((s + 1) / steps) : 1);
      }
      used += Math.max(0, fromSpace(forecast.space, centre[s] + noise));
      if (used > stock) {
        ranOut++;
        break;
      }
    }
  }
  return ranOut / paths;
}
