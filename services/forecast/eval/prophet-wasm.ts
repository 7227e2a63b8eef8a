import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Prophet, initSync } from "@bsull/augurs/prophet";
import { optimizer } from "@bsull/augurs-prophet-wasmstan";
import { dayNumber } from "../model/calendar.js";
import type { DailyQuantity } from "../model/daily-series.js";
import type { Holiday } from "../model/holidays.js";

let ready = false;

/** Prophet itself (its Stan model compiled to WebAssembly, via augurs), for the comparison. */
export function prophetForecast(
  history: readonly DailyQuantity[],
  h: number,
  holidays: readonly Holiday[],
): { value: number[]; lower: number[]; upper: number[] } {
  if (!ready) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("@bsull/augurs/prophet"));
    initSync({ module: readFileSync(join(dir, "prophet_bg.wasm")) });
    ready = true;
  }
  const ds = history.map((p) => dayNumber(p.date) * 86_400);
  const last = ds[ds.length - 1];
  const future = Array.from({ length: h }, (_, i) => last + (i + 1) * 86_400);
  const prophet = new Prophet({
    optimizer,
    intervalWidth: 0.95,
    uncertaintySamples: 1000,
    ...(holidays.length
      ? {
          holidays: new Map(
            holidays.map((hd) => [hd.name, { occurrences: hd.days.map((d) => ({ start: d * 86_400, end: (d + 1) * 86_400 })) }]),
          ),
        }
      : {}),
  });
  prophet.fit({ ds, y: history.map((p) => p.quantity) });
  const p = prophet.predict({ ds: future });
  return { value: p.yhat.point, lower: p.yhat.intervals!.lower, upper: p.yhat.intervals!.upper };
}
