import { writeFileSync } from "node:fs";
import { autoEts, mstlEts } from "../model/augurs.js";
import { seasonalNaive } from "../model/baselines.js";
import { forecastDemand } from "../model/forecast.js";
import { usHolidays } from "../model/holidays.js";
import { toDailySeries } from "../model/daily-series.js";
import {
  bootstrapInterval,
  inventoryBacktest,
  LEAD_TIMES,
  ORIGIN_COUNT,
  ORIGIN_SPACING,
  SERVICE_LEVEL,
  STOCKOUT_CONFIDENCE,
  STOCKOUT_DAYS,
  summarise,
  type InventoryOrigin,
  type InventorySummary,
} from "./inventory.js";
import { prophetForecast } from "./prophet-wasm.js";
import { evaluationSet, type EvalSeries } from "./series.js";
import { Random } from "../../numeric/random.js";

/**
 * `make eval-forecast`: rolling-origin backtests (8 origins, horizon 90 days)
 * on every series of the evaluation set (eval/series.ts: real daily series,
 * a development part and a held-out part), ours against Prophet (WASM),
 * seasonal naive (7 and 364 days) and the statsforecast family from augurs
 * (MSTL with AutoETS, AutoETS), all in the same run, US holidays for ours and
 * Prophet. Errors are MASE: absolute error over the in-sample MAE of the 7-day
 * seasonal naive forecast up to that origin, so series of any scale, zeros
 * included, average into one number.
 *
 * Gates (accuracy only; times are reported, never gated):
 *  1. aggregate MASE beats seasonal naive (7 days) and Prophet: it is lower
 *     than each, and the one-sided 95% bootstrap lower bound (origins
 *     resampled within each series) of the relative improvement
 *     1 - MASE(ours)/MASE(baseline) clears AGGREGATE_MARGIN: +10% over
 *     seasonal naive; -2% over Prophet (our lead over Prophet is a few per
 *     cent, within what 8 origins can resolve, so against Prophet the bound
 *     only rules out being worse by more than 2%);
 *  2. on no series is ours worse than seasonal naive (7 days) by more than
 *     SERIES_MARGIN: the same lower bound, per series, is at least -SERIES_MARGIN;
 *  3. the coverage of our 95% intervals, averaged over the series, lies in 93-97%;
 *  4. reorder points asked for a 95% cycle service level (eval/inventory.ts:
 *     lead times 7, 14, 28 days from 22 origins a month apart) held over the
 *     lead time in SERVICE_LEVEL_RANGE (92-98%) of all cycles, and the 95%
 *     bootstrap interval of that share contains 95%;
 *  5. stockout confidence: of the stock levels where the model put running
 *     out by day 7-90 at STOCKOUT_CONFIDENCE (80%; eval/inventory.ts, the
 *     same origins), the share that ran out lies in STOCKOUT_RANGE (75-85%)
 *     and its 95% bootstrap interval contains 80%. The band was stated before
 *     the held-out series were run with the recalibrated distribution
 *     (model/lead-time.ts, recalibratedDraws).
 * Fill rates are reported, not gated (they sit near 100% at any sensible
 * reorder point: only the units beyond it go unfilled).
 *
 * Flags: `--split development|held-out` runs one part only; `--markdown FILE`
 * writes the tables; `--as-model seasonal-naive|prophet|mstl|autoets` puts that
 * baseline in our row (to show the gates fail for it); `--interval-level L`
 * asks our model for L intervals while gate 3 still checks 95%;
 * `--inventory-uncalibrated` reads gates 4-5 from the lead-time distribution
 * without its cross-origin calibration (model/lead-time.ts);
 * `--stockout-confidence C` asks for the stock levels at C while gate 5 still
 * checks 80% (a model whose 80% is really C).
 */
const ORIGINS = 8;
const H = 90;
/** Lower-bound margins on 1 - MASE(ours)/MASE(baseline), fixed on the development series before the held-out ones were run. */
const AGGREGATE_MARGIN: Record<"naive7" | "prophet", number> = { naive7: 0.1, prophet: -0.02 };
const SERIES_MARGIN = 0.05;
const COVERAGE_RANGE: [number, number] = [0.93, 0.97];
const BOOTSTRAP = 2000;
const SERVICE_LEVEL_RANGE: [number, number] = [0.92, 0.98];
const STOCKOUT_RANGE: [number, number] = [0.75, 0.85];

const arg = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const markdownOut = arg("--markdown");
const split = arg("--split");
const asModel = arg("--as-model");
const ourLevel = Number(arg("--interval-level") ?? 0.95);
const inventoryCalibrated = !process.argv.includes("--inventory-uncalibrated");
const stockoutConfidence = Number(arg("--stockout-confidence") ?? STOCKOUT_CONFIDENCE);

type ModelKey = "ours" | "prophet" | "naive7" | "naive364" | "mstl" | "autoets";
const MODELS: [ModelKey, string][] = [
  ["ours", asModel ? `ml-mesh row replaced by ${asModel}` : "ml-mesh (this model)"],
  ["prophet", "Prophet (augurs, Stan via WASM)"],
  ["mstl", "MSTL + AutoETS (augurs)"],
  ["autoets", "AutoETS, 7-day season (augurs)"],
  ["naive7", "seasonal naive, 7-day lag"],
  ["naive364", "seasonal naive, 364-day lag"],
];

/** One model on one series: per origin, the mean scaled error; pooled APE and coverage. */
interface Score {
  mase: number[];
  ape: number;
  apeCount: number;
  inside: number;
  withIntervals: number;
  ms: number;
}
const empty = (): Score => ({ mase: [], ape: 0, apeCount: 0, inside: 0, withIntervals: 0, ms: 0 });
const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Forecast {
  value: ArrayLike<number>;
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
}

function score(s: Score, actual: Float64Array, f: Forecast, scale: number): void {
  let abs = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = f.value[i];
    abs += Math.abs(a - p);
    if (a !== 0) {
      s.ape += Math.abs(a - p) / a;
      s.apeCount++;
    }
    if (f.lower && f.upper) {
      s.withIntervals++;
      if (a >= f.lower[i] && a <= f.upper[i]) s.inside++;
    }
  }
  s.mase.push(abs / actual.length / scale);
}

interface SeriesResult {
  series: EvalSeries;
  scores: Record<ModelKey, Score>;
  picked: Map<string, number>;
  inventory: InventoryOrigin[];
}

function evaluate(series: EvalSeries): SeriesResult {
  const { values, start } = toDailySeries(series.history);
  const n = values.length;
  const firstYear = new Date(start * 86_400_000).getUTCFullYear();
  const holidays = usHolidays(firstYear, firstYear + Math.ceil(n / 365) + 1);
  const scores = Object.fromEntries(MODELS.map(([k]) => [k, empty()])) as Record<ModelKey, Score>;
  const picked = new Map<string, number>();
  const timed = (key: ModelKey, run: () => Forecast): Forecast => {
    const t = performance.now();
    const f = run();
    scores[key].ms += performance.now() - t;
    return f;
  };
  for (let o = 0; o < ORIGINS; o++) {
    const origin = n - H * (ORIGINS - o);
    const train = series.history.slice(0, origin);
    const actual = values.subarray(origin, origin + H);
    let naive = 0;
    for (let t = 7; t < origin; t++) naive += Math.abs(values[t] - values[t - 7]);
    const scale = naive / (origin - 7);
    const prophet = timed("prophet", () => prophetForecast(train, H, holidays));
    const mstl = timed("mstl", () => clampForecast(mstlEts(values, origin, H, [7, 365])));
    const naive7 = timed("naive7", () => ({ value: seasonalNaive(values, origin, H, 7) }));
    const forecasts: Record<Exclude<ModelKey, "ours">, Forecast> = {
      prophet: { value: Array.from(prophet.value, (v) => Math.max(0, v)), lower: prophet.lower, upper: prophet.upper },
      mstl,
      autoets: timed("autoets", () => clampForecast(autoEts(values, origin, H, 7))),
      naive7,
      naive364: timed("naive364", () => ({ value: seasonalNaive(values, origin, H, 364) })),
    };
    let ours: Forecast;
    if (asModel === "seasonal-naive") ours = naive7;
    else if (asModel === "prophet") ours = forecasts.prophet;
    else if (asModel === "mstl") ours = mstl;
    else if (asModel === "autoets") ours = forecasts.autoets;
    else {
      ours = timed("ours", () => {
        const f = forecastDemand(train, { horizonDays: H, intervalLevel: ourLevel, holidays });
        picked.set(f.model, (picked.get(f.model) ?? 0) + 1);
        return {
          value: f.predictions.map((p) => p.value),
          lower: f.predictions.map((p) => p.lower),
          upper: f.predictions.map((p) => p.upper),
        };
      });
    }
    score(scores.ours, actual, ours, scale);
    for (const [key, f] of Object.entries(forecasts) as [Exclude<ModelKey, "ours">, Forecast][]) score(scores[key], actual, f, scale);
  }
  const inventory = inventoryBacktest(series.history, values, { holidays, calibrated: inventoryCalibrated, stockoutConfidence });
  return { series, scores, picked, inventory };
}

function clampForecast(point: Float64Array): Forecast {
  // A failed fit (NaN) counts as a zero forecast, so it is scored, not skipped.
  return { value: point.map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0)) };
}

/**
 * One-sided 95% lower bound of 1 - MASE(ours)/MASE(base), origins resampled
 * with replacement within each series, the aggregate being the mean of the
 * series' MASE.
 */
function improvementLowerBound(results: readonly SeriesResult[], base: ModelKey, rng: Random): number {
  const draws: number[] = [];
  for (let b = 0; b < BOOTSTRAP; b++) {
    let ours = 0;
    let theirs = 0;
    for (const r of results) {
      for (let k = 0; k < ORIGINS; k++) {
        const j = Math.floor(rng.next() * ORIGINS);
        ours += r.scores.ours.mase[j] / ORIGINS / results.length;
        theirs += r.scores[base].mase[j] / ORIGINS / results.length;
      }
    }
    draws.push(1 - ours / theirs);
  }
  draws.sort((a, b) => a - b);
  return draws[Math.floor(0.05 * BOOTSTRAP)];
}
const improvement = (results: readonly SeriesResult[], base: ModelKey) => {
  const agg = (k: ModelKey) => meanOf(results.map((r) => meanOf(r.scores[k].mase)));
  return 1 - agg("ours") / agg(base);
};

function inventoryLine(inv: InventorySummary): string {
  return (
    `Stockout confidence (stock set where the model gives ${pct(stockoutConfidence)} for running out by day ${STOCKOUT_DAYS.join(", ")}): ` +
    `predicted ${pct(inv.stockoutPredicted)}, ran out ${pct(inv.stockoutHappened)} of ${inv.stockouts}. ` +
    `Reorder point at ${pct(SERVICE_LEVEL)} cycle service, lead times ${LEAD_TIMES.join(", ")} days: lead-time demand within it in ` +
    `${pct(inv.serviceLevel)} of ${inv.cycles} cycles, fill rate ${pct(inv.fillRate)}.`
  );
}
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—");
const coverage = (s: Score) => (s.withIntervals ? s.inside / s.withIntervals : NaN);
const mape = (s: Score) => (s.apeCount ? (100 * s.ape) / s.apeCount : NaN);

const set = evaluationSet().filter((s) => !split || s.split === split);
const results: SeriesResult[] = [];
const sections: string[] = [];
const failures: string[] = [];
const rng = new Random(20261202);

for (const series of set) {
  const r = evaluate(series);
  results.push(r);
  const { values } = toDailySeries(series.history);
  const zeros = values.filter((v) => v === 0).length / values.length;
  const lb = improvementLowerBound([r], "naive7", rng);
  const table = [
    `| model | MASE | MAPE % (non-zero days) | 95% interval coverage | fit + forecast ms (mean of ${ORIGINS}) |`,
    "|---|---|---|---|---|",
    ...MODELS.map(([k, name]) => {
      const s = r.scores[k];
      return `| ${name} | ${meanOf(s.mase).toFixed(3)} | ${mape(s).toFixed(1)} | ${pct(coverage(s))} | ${s.ms ? (s.ms / ORIGINS).toFixed(1) : "—"} |`;
    }),
  ].join("\n");
  const picked = [...r.picked.entries()].map(([m, c]) => `${m} (${c})`).join("; ");
  const text =
    `### ${series.name} (${series.split})\n\n${values.length} days, mean ${meanOf(Array.from(values)).toFixed(1)} a day, ${pct(zeros)} zero days; ${series.trait}.\n\n${table}\n\n` +
    `Improvement over seasonal naive (7 days): ${pct(improvement([r], "naive7"))}, 95% lower bound ${pct(lb)} (gate: at least ${pct(-SERIES_MARGIN)}).` +
    (picked ? ` Models our backtest picked: ${picked}.` : "") +
    (r.inventory.length ? `\n\n${inventoryLine(summarise(r.inventory))}` : "") +
    "\n";
  sections.push(text);
  process.stdout.write(`\n${text}`);
  if (!(lb >= -SERIES_MARGIN))
    failures.push(`${series.name}: lower bound of improvement over seasonal naive ${pct(lb)} is below -${pct(SERIES_MARGIN)}`);
}

const aggregate = [
  `| model | mean MASE over ${results.length} series | mean 95% interval coverage |`,
  "|---|---|---|",
  ...MODELS.map(([k, name]) => {
    const covs = results.map((r) => coverage(r.scores[k]));
    return `| ${name} | ${meanOf(results.map((r) => meanOf(r.scores[k].mase))).toFixed(3)} | ${pct(meanOf(covs))} |`;
  }),
].join("\n");
const gateLines: string[] = [];
for (const base of ["naive7", "prophet"] as const) {
  const lb = improvementLowerBound(results, base, rng);
  const name = MODELS.find(([k]) => k === base)![1];
  const point = improvement(results, base);
  const margin = AGGREGATE_MARGIN[base];
  gateLines.push(
    `Aggregate improvement over ${name}: ${pct(point)}, 95% lower bound ${pct(lb)} (gate: above 0%, lower bound at least ${pct(margin)}).`,
  );
  if (!(point > 0)) failures.push(`aggregate: MASE is not below ${name}'s (improvement ${pct(point)})`);
  if (!(lb >= margin)) failures.push(`aggregate: lower bound of MASE improvement over ${name} ${pct(lb)} is below ${pct(margin)}`);
}
const inventoryBySeries = results.map((r) => r.inventory);
const pooled = summarise(inventoryBySeries.flat());
gateLines.push(`All series${inventoryCalibrated ? "" : " (uncalibrated lead-time distribution)"}: ${inventoryLine(pooled)}`);
{
  const [lo, hi] = bootstrapInterval(inventoryBySeries, (x) => x.serviceLevel, rng);
  const [low, high] = SERVICE_LEVEL_RANGE;
  gateLines.push(
    `Cycle service level of reorder points at ${pct(SERVICE_LEVEL)}: ${pct(pooled.serviceLevel)}, 95% bootstrap interval ${pct(lo)}-${pct(hi)} ` +
      `(gate: ${pct(low)}-${pct(high)}, interval containing ${pct(SERVICE_LEVEL)}).`,
  );
  if (!(pooled.serviceLevel >= low && pooled.serviceLevel <= high))
    failures.push(
      `aggregate: reorder points at ${pct(SERVICE_LEVEL)} held in ${pct(pooled.serviceLevel)} of cycles, outside ${pct(low)}-${pct(high)}`,
    );
  if (!(lo <= SERVICE_LEVEL && SERVICE_LEVEL <= hi))
    failures.push(
      `aggregate: the 95% bootstrap interval of the cycle service level, ${pct(lo)}-${pct(hi)}, excludes ${pct(SERVICE_LEVEL)}`,
    );
}
{
  const [lo, hi] = bootstrapInterval(inventoryBySeries, (x) => x.stockoutHappened, rng);
  const [low, high] = STOCKOUT_RANGE;
  const ran = pooled.stockoutHappened;
  gateLines.push(
    `Stock levels asked at ${pct(stockoutConfidence)} chance of running out (mean probability given ${pct(pooled.stockoutPredicted)}): ` +
      `${pct(ran)} ran out, 95% bootstrap interval ${pct(lo)}-${pct(hi)} (gate: ${pct(low)}-${pct(high)}, interval containing ${pct(STOCKOUT_CONFIDENCE)}).`,
  );
  if (!(ran >= low && ran <= high))
    failures.push(
      `aggregate: ${pct(ran)} of stock levels asked at ${pct(stockoutConfidence)} ran out, outside ${pct(low)}-${pct(high)} (the band for ${pct(STOCKOUT_CONFIDENCE)})`,
    );
  if (!(lo <= STOCKOUT_CONFIDENCE && STOCKOUT_CONFIDENCE <= hi))
    failures.push(
      `aggregate: the 95% bootstrap interval of the share that ran out, ${pct(lo)}-${pct(hi)}, excludes ${pct(STOCKOUT_CONFIDENCE)}`,
    );
}
const cov = meanOf(results.map((r) => coverage(r.scores.ours)));
gateLines.push(`Mean coverage of our 95% intervals: ${pct(cov)} (gate: ${pct(COVERAGE_RANGE[0])}-${pct(COVERAGE_RANGE[1])}).`);
if (!(cov >= COVERAGE_RANGE[0] && cov <= COVERAGE_RANGE[1]))
  failures.push(`aggregate: 95% interval coverage ${pct(cov)} is outside ${pct(COVERAGE_RANGE[0])}-${pct(COVERAGE_RANGE[1])}`);
const aggregateText = `### Aggregate${split ? ` (${split} series only)` : ""}\n\n${aggregate}\n\n${gateLines.join("\n")}\n`;
process.stdout.write(`\n${aggregateText}`);

if (markdownOut) {
  writeFileSync(
    markdownOut,
    `## Forecast: ${results.length} real daily series, ${ORIGINS} rolling origins × ${H} days\n\n` +
      "Command: `make eval-forecast` (`node dist/services/forecast/eval/main.js`). MASE scales each origin's mean absolute error by the " +
      "in-sample MAE of the 7-day seasonal naive forecast up to that origin; MAPE counts non-zero days only; coverage is the share of actual " +
      "days inside the 95% interval; times are single-threaded, same process, same machine. Held-out series were first run once the " +
      "point model and the gates' margins were fixed; that run found 87.9% coverage on the intermittent held-out series, and the count " +
      "intervals were added after it (see README). Stockout confidence and reorder points are backtested on our model only, from " +
      `${ORIGIN_COUNT} origins ${ORIGIN_SPACING} days apart on each series (eval/inventory.ts).\n\n${aggregateText}\n${sections.join("\n")}`,
  );
}
if (failures.length) {
  process.stderr.write(`\nFAILED:\n  ${failures.join("\n  ")}\n`);
  process.exit(1);
}
process.stdout.write("\nall forecast gates met\n");
