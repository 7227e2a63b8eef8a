import { type Routine, routineIntensity } from "../activity.js";
import { isQuiet } from "../model/decide.js";
import { hourOfWeek } from "../model/local-time.js";

const HOUR = 3_600_000;
const STEP = 600_000;
const WEEK = 7 * 24 * HOUR;

type Span = { from: number; to: number };

const meanIntensity = new WeakMap<Routine, number>();

/** Expected opens per millisecond at an instant: the routine's volume spread by its intensity (bursts aside). */
function rateAt(routine: Routine, span: Span, at: number): number {
  let mean = meanIntensity.get(routine);
  if (mean === undefined) {
    let sum = 0;
    let n = 0;
    for (let u = span.from + HOUR / 2; u < span.to; u += HOUR, n++) sum += routineIntensity(routine, u, span);
    mean = sum / n;
    meanIntensity.set(routine, mean);
  }
  return ((routine.eventsPerWeek / WEEK) * routineIntensity(routine, at, span)) / mean;
}

/** Expected opens between two instants (midpoint rule over ten-minute steps). */
function expectedOpens(routine: Routine, span: Span, a: number, b: number): number {
  let total = 0;
  for (let u = a; u < b; u += STEP) {
    const v = Math.min(b, u + STEP);
    total += rateAt(routine, span, (u + v) / 2) * (v - u);
  }
  return total;
}

/**
 * The slot a sender who knew the hidden routine would pick for a medium
 * request at `now`: among the same candidates the model has (now and each hour
 * start within 12 hours, outside quiet hours), the one whose chance that the
 * next open falls within an hour of it is highest, opens taken as a Poisson
 * process of the routine's intensity: no opens before the hour's start, then
 * at least one within it.
 */
export function oracleSlot(routine: Routine, span: Span, now: number): number {
  const candidates = [now];
  for (let t = Math.ceil(now / HOUR) * HOUR; t <= now + 12 * HOUR; t += HOUR) candidates.push(t);
  let best = now;
  let bestChance = -1;
  for (const s of candidates) {
    if (isQuiet(hourOfWeek(s, routine.timezone) % 24, routine)) continue;
    const a = Math.max(now, s - HOUR);
    const chance = Math.exp(-expectedOpens(routine, span, now, a)) * (1 - Math.exp(-expectedOpens(routine, span, a, s + HOUR)));
    if (chance > bestChance) {
      bestChance = chance;
      best = s;
    }
  }
  return best;
}
