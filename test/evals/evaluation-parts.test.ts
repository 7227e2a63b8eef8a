import { describe, expect, it } from "vitest";
import { ascendingOrder, auc, weightedAuc } from "../../services/match/model/metrics.js";
import { generateInteractions, labelledPairs, matchProbability } from "../../services/match/interactions.js";
import { activityOf, prefsOf, routineOf } from "../../services/notify/activity.js";
import { buildUserState } from "../../services/notify/model/engagement.js";
import { bootstrapInterval, weightedMean } from "../../services/numeric/bootstrap.js";
import { Random } from "../../services/numeric/random.js";
import { generatePopulation } from "../../services/travellers/population.js";

// The parts the offline gates (make eval-match, eval-recommend, eval-notify) are built from.
describe("evaluation parts", () => {
  it("computes a resample's AUC from counts as the AUC of the repeated examples", () => {
    const r = new Random(3);
    const scores = Array.from({ length: 300 }, () => Math.round(r.next() * 40) / 40); // ties on purpose
    const labels = scores.map((s) => (r.next() < s ? 1 : 0));
    const weights = scores.map(() => r.int(0, 3));
    const order = ascendingOrder(scores);
    expect(weightedAuc(order, scores, labels, new Float64Array(300).fill(1))).toBeCloseTo(auc(scores, labels), 12);
    const repeatedScores: number[] = [];
    const repeatedLabels: number[] = [];
    weights.forEach((w, i) => {
      for (let k = 0; k < w; k++) {
        repeatedScores.push(scores[i]);
        repeatedLabels.push(labels[i]);
      }
    });
    expect(weightedAuc(order, scores, labels, weights)).toBeCloseTo(auc(repeatedScores, repeatedLabels), 12);
  });

  it("gives a reproducible paired interval around the estimate that shrinks with more units", () => {
    const r = new Random(9);
    const small = Float64Array.from({ length: 200 }, () => 0.1 + r.gaussian());
    const large = Float64Array.from({ length: 5000 }, () => 0.1 + r.gaussian());
    const a = bootstrapInterval(small.length, (w) => weightedMean(small, w), { seed: 4 });
    expect(bootstrapInterval(small.length, (w) => weightedMean(small, w), { seed: 4 })).toEqual(a);
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
    // The standard error of a mean of 200 unit-variance draws is 0.071: the 95% interval spans about 0.28.
    expect(a.upper - a.lower).toBeGreaterThan(0.2);
    expect(a.upper - a.lower).toBeLessThan(0.36);
    const b = bootstrapInterval(large.length, (w) => weightedMean(large, w), { seed: 4 });
    expect(b.upper - b.lower).toBeLessThan((a.upper - a.lower) / 3);
  });

  it("hands the notification model's state only what serving stores, never the hidden routine", () => {
    const [m] = generatePopulation({ count: 1, seed: 5 });
    const routine = routineOf(m.traveller, 5, 0);
    const end = Date.UTC(2026, 0, 1);
    const state = buildUserState(activityOf(routine, end - 28 * 86_400_000, end, 5), prefsOf(routine), end);
    expect(Object.keys(state).sort()).toEqual(["hours", "opens", "quietEndHour", "quietStartHour", "timezone", "weight"]);
  });

  it("keeps the best achievable match score below perfect: the truth's own probabilities", () => {
    const members = [...generatePopulation({ count: 1500, seed: 12 })];
    const byId = new Map(members.map((m) => [m.traveller.id, m]));
    const pairs = labelledPairs(generateInteractions(members, { seed: 12, shownPerUser: 8 }));
    const p = pairs.map((x) => matchProbability(byId.get(x.a)!, byId.get(x.b)!, x.day!));
    const y = pairs.map((x): number => (x.matched ? 1 : 0));
    const oracle = auc(p, y);
    expect(oracle).toBeGreaterThan(0.8);
    expect(oracle).toBeLessThan(0.97);
    // Calibrated: the truth's mean probability is the observed match rate, within sampling error.
    const rate = y.reduce((a, b) => a + b, 0) / y.length;
    expect(Math.abs(p.reduce((a, b) => a + b, 0) / p.length - rate)).toBeLessThan(0.01);
  });
});
