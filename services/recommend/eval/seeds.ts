/**
 * The populations recommendation's evaluation draws, one seed each:
 * - tuning: developing the generator and the model and choosing λ (tune.ts) look here;
 * - gate: what `make eval-recommend` judges, with the margins fixed on the tuning population;
 * - holdout: frozen; development never reads it. It is run once when a change to the model or
 *   the generator is final (`--split holdout`), and its result is written in the README.
 */
export const RECOMMEND_EVAL_SEEDS = { tuning: 41, gate: 2027, holdout: 70_423 } as const;
export type RecommendSplit = keyof typeof RECOMMEND_EVAL_SEEDS;
