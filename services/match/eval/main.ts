import { profileFeatures, type ProfileFeatures } from "../features/pair-features.js";
import { fitIdf } from "../features/text-vectors.js";
import { generatePopulation } from "../../travellers/index.js";
import { generateInteractions, labelledPairs } from "../interactions.js";
import { trainMatchModel } from "../model/train.js";

/**
 * `make eval-match`: a synthetic population whose likes come from a hidden
 * preference process; v1 trains on 80% of the pairs shown, and v0 (the
 * predecessor's weighted sum) and v1 (through its ONNX artefact) are scored on
 * the held-out 20%. Exits non-zero unless v1 beats v0 on AUC and log-loss.
 */
const count = Number(process.env.EVAL_POPULATION ?? 20_000);
const started = performance.now();
const members = [...generatePopulation({ count, seed: 2026 })];
const interactions = [...generateInteractions(members, { seed: 2026, shownPerUser: 12 })];
const idf = fitIdf(members.flatMap((m) => [m.traveller.bio, m.traveller.promptAnswers.join(". ")]));
const profiles = new Map<string, ProfileFeatures>(members.map((m) => [m.traveller.id, profileFeatures(m.traveller, idf)]));
const pairs = labelledPairs(interactions);
const trained = await trainMatchModel(pairs, profiles, { version: "eval" });
const { v0, v1 } = trained.metrics;
const table = [
  "| model | AUC | log-loss |",
  "|---|---|---|",
  `| v0: predecessor's weighted sum (calibrated) | ${v0.auc.toFixed(4)} | ${v0.logLoss.toFixed(4)} |`,
  `| v1: logistic regression, ONNX | ${v1.auc.toFixed(4)} | ${v1.logLoss.toFixed(4)} |`,
].join("\n");
process.stdout.write(
  `population ${count}, ${interactions.length} interactions, ${trained.metrics.trainingPairs} training pairs, ` +
    `${trained.metrics.heldOutPairs} held-out pairs, match rate ${(100 * trained.metrics.positiveRate).toFixed(1)}% ` +
    `(${((performance.now() - started) / 1000).toFixed(1)} s)\n\n${table}\n`,
);
if (!(v1.auc > v0.auc && v1.logLoss < v0.logLoss)) {
  process.stderr.write("\nFAILED: v1 does not beat v0 on both AUC and log-loss\n");
  process.exit(1);
}
process.stdout.write("\nv1 beats v0 on both\n");
