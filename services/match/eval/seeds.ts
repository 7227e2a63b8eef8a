/**
 * The populations match's evaluation draws, one seed each:
 * - tuning: developing the generator and the model and choosing v1's L2 (tune.ts) look here;
 * - gate: what `make eval-match` judges, with the margins fixed on the tuning population;
 * - holdout: frozen; development never reads it. It is run once when a change to the model or
 *   the generator is final (`--split holdout`), and its result is written in the README.
 */
export const MATCH_EVAL_SEEDS = { tuning: 31, gate: 2026, holdout: 90_617 } as const;
export type MatchSplit = keyof typeof MATCH_EVAL_SEEDS;
