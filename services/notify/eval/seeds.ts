/**
 * The populations notification timing's evaluation draws, one seed each:
 * - tuning: developing the generator and the model and choosing its constants (tune.ts) look here;
 * - gate: what `make eval-notify` judges, with the margins fixed on the tuning population;
 * - holdout: frozen; development never reads it. It is run once when a change to the model or
 *   the generator is final (`--split holdout`), and its result is written in the README.
 */
export const NOTIFY_EVAL_SEEDS = { tuning: 61, gate: 77, holdout: 50_111 } as const;
export type NotifySplit = keyof typeof NOTIFY_EVAL_SEEDS;
