import { auc } from "../model/metrics.js";
import { MATCH_L2, MATCH_L2_V2, trainMatchModel } from "../model/train.js";
import { matchEvaluationData } from "./data.js";
import { MATCH_EVAL_SEEDS } from "./seeds.js";

/**
 * Chooses v1's and v2's L2 penalties on the tuning population alone (never
 * the gate's or the holdout's): held-out AUC of the evaluation period for
 * each candidate. The chosen values are written into the code by hand
 * (MATCH_L2, MATCH_L2_V2 in model/train.ts); this prints the table they were
 * chosen from. `npx tsx services/match/eval/tune.ts`
 */
const { pairs, inEvaluation, profiles } = await matchEvaluationData(MATCH_EVAL_SEEDS.tuning, Number(process.env.EVAL_POPULATION ?? 20_000));
process.stdout.write(
  `tuning population (seed ${MATCH_EVAL_SEEDS.tuning}), MATCH_L2 now ${MATCH_L2}, MATCH_L2_V2 now ${MATCH_L2_V2}\n\n| L2 | v1 AUC | v2 AUC |\n|---|---|---|\n`,
);
for (const l2 of [0.01, 1, 100, 1000]) {
  const trained = await trainMatchModel(pairs, profiles, { version: "tune", heldOut: inEvaluation, l2, keepPredictions: true });
  const { labels, v1, v2 } = trained.heldOut!;
  process.stdout.write(`| ${l2} | ${auc(v1, labels).toFixed(4)} | ${auc(v2, labels).toFixed(4)} |\n`);
}
