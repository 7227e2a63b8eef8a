import { generatePopulation } from "../../travellers/index.js";
import { Random } from "../../numeric/random.js";
import { activityOf, routineOf } from "../activity.js";
import { decide, isQuiet } from "../model/decide.js";
import { buildUserState, populationPrior, type UserState } from "../model/engagement.js";
import { hourOfWeek } from "../model/local-time.js";

/**
 * `make eval-notify`: six weeks of synthetic activity to learn from, two
 * held-out weeks to judge. At random moments in the held-out weeks each method
 * picks a slot (medium urgency: within 12 hours, outside quiet hours); it
 * scores when the traveller's next real open falls within an hour of the slot.
 * Ours is compared with the best fixed local hour (fitted on the training
 * weeks) and with the population-only model. Exits non-zero unless ours wins.
 */
const USERS = Number(process.env.EVAL_USERS ?? 3000);
const DAY = 86_400_000;
const end = Date.UTC(2026, 0, 1);
const split = end - 14 * DAY;
const start = end - 56 * DAY;
const r = new Random(7);

const users = [...generatePopulation({ count: USERS, seed: 77 })].map((m, i) => {
  const routine = routineOf(m.traveller, 77, i);
  const events = activityOf(routine, start, end, 77);
  return { routine, train: events.filter((e) => e.at < split), test: events.filter((e) => e.at >= split) };
});
const states: UserState[] = users.map((u) => buildUserState(u.train, u.routine, split));
const prior = populationPrior(states);

// The fixed-hour baseline: the single local hour of day with the most training activity overall.
const byHour = new Array<number>(24).fill(0);
prior.hours.forEach((v, h) => {
  byHour[h % 24] += v;
});
const fixedHour = byHour.indexOf(Math.max(...byHour));

let ours = 0;
let population = 0;
let fixed = 0;
let trials = 0;
users.forEach((u, i) => {
  if (u.test.length === 0) return;
  for (let k = 0; k < 4; k++) {
    const t = split + r.next() * (12 * DAY);
    const next = u.test.find((e) => e.at > t);
    if (!next) continue;
    trials++;
    const hit = (slot: number) => Math.abs(slot - next.at) <= 3_600_000;
    if (hit(decide(states[i], prior, { type: "message", urgency: "medium" }, t).sendAt)) ours++;
    const cold = { ...states[i], hours: new Array<number>(168).fill(0), weight: 0 };
    if (hit(decide(cold, prior, { type: "message", urgency: "medium" }, t).sendAt)) population++;
    if (hit(fixedSlot(t, u.routine))) fixed++;
  }
});

function fixedSlot(t: number, prefs: UserState | (typeof users)[number]["routine"]): number {
  for (let s = Math.ceil(t / 3_600_000) * 3_600_000; s <= t + 12 * 3_600_000; s += 3_600_000) {
    const h = hourOfWeek(s, prefs.timezone) % 24;
    if (h === fixedHour && !isQuiet(h, prefs)) return s;
  }
  return t;
}

const rate = (n: number) => `${((100 * n) / trials).toFixed(1)}%`;
const table = [
  "| method | next open within an hour of the chosen slot |",
  "|---|---|",
  `| ours: per-user hour-of-week, recency-weighted, shrunk toward the population | ${rate(ours)} |`,
  `| population-only model | ${rate(population)} |`,
  `| fixed hour (${fixedHour}:00 local, the best single hour on the training weeks) | ${rate(fixed)} |`,
].join("\n");
process.stdout.write(`${USERS} travellers, ${trials} requests in the held-out weeks\n\n${table}\n`);
if (!(ours > population && ours > fixed)) {
  process.stderr.write("\nFAILED: the per-user model does not beat both baselines\n");
  process.exit(1);
}
process.stdout.write("\nours beats both baselines\n");
