import { Random } from "../../numeric/random.js";
import { generatePopulation } from "../../travellers/index.js";
import { activityOf, prefsOf, routineOf } from "../activity.js";
import { decide, PRIOR_EVENTS } from "../model/decide.js";
import { buildUserState, HALF_LIFE_DAYS, populationPrior } from "../model/engagement.js";
import { NOTIFY_EVAL_SEEDS } from "./seeds.js";

/**
 * Chooses the model's half-life and prior weight on the tuning population
 * alone (never the gate's or the holdout's): the share of held-out requests
 * whose next open falls within an hour of the chosen slot, as in main.ts. The
 * chosen values are written into the code by hand (HALF_LIFE_DAYS in
 * model/engagement.ts, PRIOR_EVENTS in model/decide.ts); this prints the
 * table they were chosen from. `npx tsx services/notify/eval/tune.ts`
 */
const USERS = Number(process.env.EVAL_USERS ?? 3000);
const DAY = 86_400_000;
const end = Date.UTC(2026, 0, 1);
const splitAt = end - 14 * DAY;
const start = end - 56 * DAY;
const seed = NOTIFY_EVAL_SEEDS.tuning;
const users = [...generatePopulation({ count: USERS, seed })].map((m, i) => {
  const routine = routineOf(m.traveller, seed, i);
  const events = activityOf(routine, start, end, seed);
  return { prefs: prefsOf(routine), train: events.filter((e) => e.at < splitAt), test: events.filter((e) => e.at >= splitAt) };
});
process.stdout.write(
  `tuning population (seed ${seed}); now HALF_LIFE_DAYS ${HALF_LIFE_DAYS}, PRIOR_EVENTS ${PRIOR_EVENTS}\n\n| half-life (days) | prior events | hit rate |\n|---|---|---|\n`,
);
for (const halfLife of [7, 14, 21, 42]) {
  const states = users.map((u) => buildUserState(u.train, u.prefs, splitAt, halfLife));
  const prior = populationPrior(states);
  for (const priorEvents of [5, 15, 30]) {
    const r = new Random(seed ^ 0x2545f491);
    let hits = 0;
    let trials = 0;
    users.forEach((u, i) => {
      if (u.test.length === 0) return;
      for (let k = 0; k < 4; k++) {
        const t = splitAt + r.next() * (12 * DAY);
        const next = u.test.find((e) => e.at > t);
        if (!next) continue;
        trials++;
        if (Math.abs(decide(states[i], prior, { type: "message", urgency: "medium" }, t, priorEvents).sendAt - next.at) <= 3_600_000)
          hits++;
      }
    });
    process.stdout.write(`| ${halfLife} | ${priorEvents} | ${((100 * hits) / trials).toFixed(1)}% |\n`);
  }
}
