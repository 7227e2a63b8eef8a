import { generatePopulation, type PopulationMember } from "../../travellers/index.js";
import { profileFeatures, type ProfileFeatures } from "../features/pair-features.js";
import { encodeParts, textParts } from "../features/text-parts.js";
import { fitIdf } from "../features/text-vectors.js";
import { contentWords } from "../prompt/read.js";
import { loadWordVectors } from "../text/word-vectors.js";
import { generateInteractions, INTERACTION_START_DAY, labelledPairs, type LabelledPair } from "../interactions.js";

/** Pairs shown from this day of the window on are the evaluation period; before it, training. */
export const EVALUATION_FROM_DAY = INTERACTION_START_DAY + 90;

export interface MatchEvaluationData {
  byId: ReadonlyMap<string, PopulationMember>;
  pairs: LabelledPair[];
  /** True for the pairs of the evaluation period. */
  inEvaluation: (p: LabelledPair) => boolean;
  profiles: ReadonlyMap<string, ProfileFeatures>;
}

/**
 * One population's pairs, split by time, with profile features as a server
 * fitted before the evaluation period would read them: the text IDF comes
 * from the training period's profiles alone; the word vectors (v2's bio and
 * prompt-answer parts) are fixed, fitted on no profile.
 */
export async function matchEvaluationData(seed: number, count: number): Promise<MatchEvaluationData> {
  const vectors = await loadWordVectors();
  const members = [...generatePopulation({ count, seed })];
  const pairs = labelledPairs(generateInteractions(members, { seed, shownPerUser: 12 }));
  const inEvaluation = (p: LabelledPair) => (p.day ?? 0) >= EVALUATION_FROM_DAY;
  const trainingIds = new Set(pairs.filter((p) => !inEvaluation(p)).flatMap((p) => [p.a, p.b]));
  const idf = fitIdf(
    members.filter((m) => trainingIds.has(m.traveller.id)).flatMap((m) => [m.traveller.bio, m.traveller.promptAnswers.join(". ")]),
  );
  const profiles = new Map<string, ProfileFeatures>(
    members.map((m) => [
      m.traveller.id,
      { ...profileFeatures(m.traveller, idf), textParts: encodeParts(textParts(m.traveller, contentWords, vectors)) },
    ]),
  );
  return { byId: new Map(members.map((m) => [m.traveller.id, m])), pairs, inEvaluation, profiles };
}
