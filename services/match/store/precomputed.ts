import type { Sql } from "../../runtime/storage/database.js";

/** A traveller's row of match_precomputed, as the feed reads it. */
export interface PrecomputedRow {
  matches: { user_id: string; score: number }[];
  candidatesConsidered: number;
  modelVersion: string;
  computedAt: Date;
}

/** The stored top matches of one traveller (the score_candidates job writes them), or undefined. */
export async function readPrecomputed(sql: Sql, userId: string): Promise<PrecomputedRow | undefined> {
  const [r] = await sql<{ matches: PrecomputedRow["matches"]; candidates_considered: number; model_version: string; computed_at: Date }[]>`
    select matches, candidates_considered, model_version, computed_at from match_precomputed where user_id = ${userId}`;
  return (
    r && { matches: r.matches, candidatesConsidered: r.candidates_considered, modelVersion: r.model_version, computedAt: r.computed_at }
  );
}
