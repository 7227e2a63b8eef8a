import { scoreAll, trainFactorisation } from "../factorisation.js";
import { rankingMetrics } from "../holdout.js";
import { recommendEvaluationData } from "./data.js";
import { RECOMMEND_EVAL_SEEDS } from "./seeds.js";

/**
 * Chooses the factorisation's λ on the tuning population alone (never the
 * gate's or the holdout's): recall@10 and NDCG@10 of the evaluation period
 * for each candidate. The chosen value is written into the code by hand
 * (RECOMMEND_LAMBDA in factorisation.ts); this prints the table it was chosen
 * from. `npx tsx services/recommend/eval/tune.ts`
 */
const seed = RECOMMEND_EVAL_SEEDS.tuning;
const { data, observed, heldOut } = recommendEvaluationData(
  seed,
  Number(process.env.EVAL_USERS ?? 6000),
  Number(process.env.EVAL_DESTINATIONS ?? 2000),
);
process.stdout.write(`tuning population (seed ${seed})\n\n| λ | recall@10 | NDCG@10 |\n|---|---|---|\n`);
const scores = new Float32Array(data.items);
for (const lambda of (process.env.LAMBDAS ?? "5,20,50,100,200").split(",").map(Number)) {
  const { model, users } = trainFactorisation(data, { lambda });
  const d = model.dim;
  const m = rankingMetrics(observed, heldOut, (n) => scoreAll(model, users.subarray(n * d, (n + 1) * d), scores));
  process.stdout.write(`| ${lambda} | ${m.recallAt10.toFixed(4)} | ${m.ndcgAt10.toFixed(4)} |\n`);
}
