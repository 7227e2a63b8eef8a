import { generatePopulation, INTERESTS } from "../../travellers/index.js";
import { buildCatalogue } from "../catalogue.js";
import { mapped, scoreAll, trainFactorisation } from "../factorisation.js";
import { popularityScores, rankingMetrics, type RankingMetrics } from "../holdout.js";
import { generateDestinationInteractions, historyOf, type DestinationInteraction } from "../interactions.js";

/**
 * `make eval-recommend`: travellers browse, save and book destinations by a
 * hidden preference process; each traveller's last saved or booked
 * destination is held out (with everything they did there), the model trains
 * on the rest, and every method ranks the whole catalogue minus what the
 * traveller already touched. Recall@10 and NDCG@10 of the held-out
 * destination, against ranking by popularity. Exits non-zero unless the
 * model beats popularity on both.
 */
const USERS = Number(process.env.EVAL_USERS ?? 6000);
const DESTINATIONS = Number(process.env.EVAL_DESTINATIONS ?? 2000);
const started = performance.now();
const catalogue = buildCatalogue(DESTINATIONS);
const members = [...generatePopulation({ count: USERS, seed: 2027 })];
const events = [...generateDestinationInteractions(members, catalogue, { seed: 2027 })];
const byUser = new Map<string, DestinationInteraction[]>();
for (const e of events) byUser.get(e.userId)?.push(e) ?? byUser.set(e.userId, [e]);

const heldOut: (number | undefined)[] = [];
const users = members.map((m) => {
  const mine = byUser.get(m.traveller.id) ?? [];
  const kept = mine.filter((e) => e.kind !== "viewed");
  const distinct = new Set(kept.map((e) => e.destination));
  // Only travellers with another save or booking left to learn from are judged.
  const target = distinct.size >= 2 ? kept[kept.length - 1].destination : undefined;
  heldOut.push(target);
  return {
    interests: m.traveller.interests.map((t) => INTERESTS.indexOf(t)),
    observed: historyOf(mine.filter((e) => e.destination !== target)),
  };
});
const itemTags = catalogue.map((d) => d.tags.map((t) => INTERESTS.indexOf(t)));
const { model, users: vectors } = trainFactorisation({ items: catalogue.length, features: INTERESTS.length, users, itemTags });
const trainedIn = performance.now() - started;

const popularity = popularityScores(
  users.map((u) => u.observed),
  catalogue.length,
);
const d = model.dim;
const observed = users.map((u) => u.observed);
const scores = new Float32Array(catalogue.length);
const totals = {
  model: rankingMetrics(observed, heldOut, (n) => scoreAll(model, vectors.subarray(n * d, (n + 1) * d), scores)),
  interests: rankingMetrics(observed, heldOut, (n) =>
    scoreAll(model, mapped(model.interestMap, users[n].interests, d, new Float64Array(d)), scores),
  ),
  popularity: rankingMetrics(observed, heldOut, () => popularity),
};
const judged = totals.model.judged;

const row = (name: string, m: RankingMetrics) => `| ${name} | ${m.recallAt10.toFixed(4)} | ${m.ndcgAt10.toFixed(4)} |`;
const table = [
  `| method | recall@10 | NDCG@10 |`,
  "|---|---|---|",
  row(`model: implicit ALS (d=${d}) with interest and tag priors`, totals.model),
  row("model, interests only (the cold-start path)", totals.interests),
  row("popularity (training interaction strength)", totals.popularity),
].join("\n");
process.stdout.write(
  `${USERS} travellers, ${catalogue.length} destinations, ${events.length} interactions, ${judged} held-out saves/bookings ` +
    `(trained in ${(trainedIn / 1000).toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s)\n\n${table}\n`,
);
if (!(totals.model.recallAt10 > totals.popularity.recallAt10 && totals.model.ndcgAt10 > totals.popularity.ndcgAt10)) {
  process.stderr.write("\nFAILED: the model does not beat popularity on both recall@10 and NDCG@10\n");
  process.exit(1);
}
process.stdout.write("\nthe model beats popularity on both\n");
