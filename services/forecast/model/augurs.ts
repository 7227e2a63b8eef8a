import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { AutoETS, initSync as initEts } from "@bsull/augurs/ets";
import { MSTL, initSync as initMstl } from "@bsull/augurs/mstl";

/**
 * The statsforecast family, as compiled to WebAssembly by augurs: MSTL (a
 * seasonal-trend decomposition with one season per period) whose
 * deseasonalised remainder is forecast by AutoETS, and AutoETS alone with a
 * weekly season. Both take the first `length` values and return `h` days in
 * linear space; a fit that fails (a constant or all-zero history, say) returns
 * NaN so the backtest drops the candidate instead of failing the forecast.
 */
let ready = false;
function init(): void {
  if (ready) return;
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@bsull/augurs/mstl"));
  initMstl({ module: readFileSync(join(dir, "mstl_bg.wasm")) });
  initEts({ module: readFileSync(join(dir, "ets_bg.wasm")) });
  ready = true;
}

export function mstlEts(values: Float64Array, length: number, h: number, periods: number[]): Float64Array {
  init();
  try {
    const model = MSTL.ets(periods);
    try {
      model.fit(values.subarray(0, length));
      return finite(model.predict(h).point, h);
    } finally {
      model.free();
    }
  } catch {
    return new Float64Array(h).fill(NaN);
  }
}

export function autoEts(values: Float64Array, length: number, h: number, seasonLength: number): Float64Array {
  init();
  try {
    const model = new AutoETS(seasonLength, "ZZZ");
    try {
      model.fit(values.subarray(0, length));
      return finite(model.predict(h).point, h);
    } finally {
      model.free();
    }
  } catch {
    return new Float64Array(h).fill(NaN);
  }
}

function finite(point: readonly number[], h: number): Float64Array {
  const out = Float64Array.from(point.slice(0, h));
  if (out.length !== h || out.some((v) => !Number.isFinite(v))) return new Float64Array(h).fill(NaN);
  return out;
}
