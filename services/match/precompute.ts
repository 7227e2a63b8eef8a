import { createHash } from "node:crypto";
import type { Sql } from "../runtime/storage/database.js";
import { bestOf } from "./best-of.js";
import type { LoadedModel } from "./serving-model.js";
import { loadTravellers, nearbyTravellers, toProfile, type TravellerRow } from "./store/profiles.js";

/** What a score_candidates run is given. */
export interface PrecomputeParameters {
  /** Matches kept per traveller. */
  topK: number;
  /** How far around a traveller candidates are looked for. */
  radiusKm: number;
  /** The nearest candidates scored at most (as SearchMatches). */
  maxCandidates: number;
  /** Only these travellers; everyone when absent. */
  userIds?: string[];
  /** Recompute every row, stale or not. */
  full?: boolean;
}

export const PRECOMPUTE_DEFAULTS = { topK: 20, radiusKm: 50, maxCandidates: 1000 } as const;

export interface PrecomputeOutcome {
  travellers: number;
  recomputed: number;
  unchanged: number;
  missing: number;
}

interface StoredState {
  model_version: string;
  profile_updated_at: Date;
  neighbours_hash: string;
  parameters_hash: string;
}

const CHUNK = 200;

/**
 * Precomputes each traveller's top-K matches among the travellers near them
 * who fall in their accepted ages, scored by `model` exactly as ScoreCandidates
 * scores one traveller against candidates (no trip context), and stores them
 * best first in match_precomputed. Incremental: a traveller's row is rewritten
 * only when it is missing, or their profile changed since, or their candidates
 * did (someone moved in or out of range, or changed their profile: the
 * candidates' ids and updated_at are hashed), or the model or the parameters
 * differ from the row's. Finding the candidates is an index-only search;
 * scoring them is what an unchanged row saves.
 */
export async function precomputeMatches(
  sql: Sql,
  model: LoadedModel,
  parameters: PrecomputeParameters,
  run: { signal: AbortSignal; progress: (percent: number, message: string) => Promise<void> },
): Promise<PrecomputeOutcome> {
  const parametersHash = hash([parameters.topK, parameters.radiusKm, parameters.maxCandidates]);
  const ids = parameters.userIds ?? (await sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
  const outcome: PrecomputeOutcome = { travellers: ids.length, recomputed: 0, unchanged: 0, missing: 0 };
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const rows = await loadTravellers(sql, chunk);
    const updated = await updatedAt(sql, chunk);
    const stored = new Map(
      (
        await sql<(StoredState & { user_id: string })[]>`
          select user_id::text, model_version, profile_updated_at, neighbours_hash, parameters_hash
          from match_precomputed where user_id = any(${chunk}::uuid[])`
      ).map((r) => [r.user_id, r]),
    );
    outcome.missing += chunk.length - rows.length;
    for (const row of rows) {
      run.signal.throwIfAborted();
      const found = await nearbyTravellers(sql, {
        latitude: row.latitude,
        longitude: row.longitude,
        km: parameters.radiusKm,
        minAge: row.min_accepted_age,
        maxAge: row.max_accepted_age,
        limit: parameters.maxCandidates,
        exclude: row.id,
      });
      const candidateUpdates = await updatedAt(
        sql,
        found.map((c) => c.row.id),
      );
      const neighboursHash = hash(found.map((c) => `${c.row.id}@${candidateUpdates.get(c.row.id)?.toISOString()}`).sort());
      // Read just before; a traveller removed since has no row to keep fresh.
      const profileUpdatedAt = updated.get(row.id);
      if (!profileUpdatedAt) {
        outcome.missing++;
        continue;
      }
      const before = stored.get(row.id);
      if (
        !parameters.full &&
        before &&
        before.model_version === model.version &&
        before.parameters_hash === parametersHash &&
        before.neighbours_hash === neighboursHash &&
        before.profile_updated_at.getTime() === profileUpdatedAt.getTime()
      ) {
        outcome.unchanged++;
        continue;
      }
      const matches = await topMatches(model, row, found, parameters.topK);
      await sql`
        insert into match_precomputed (user_id, matches, candidates_considered, model_version, profile_updated_at, neighbours_hash, parameters_hash)
        values (${row.id}, ${sql.json(matches as never)}, ${found.length}, ${model.version}, ${profileUpdatedAt}, ${neighboursHash}, ${parametersHash})
        on conflict (user_id) do update set
          matches = excluded.matches, candidates_considered = excluded.candidates_considered, model_version = excluded.model_version,
          profile_updated_at = excluded.profile_updated_at, neighbours_hash = excluded.neighbours_hash,
          parameters_hash = excluded.parameters_hash, computed_at = clock_timestamp()`;
      outcome.recomputed++;
    }
    const done = Math.min(ids.length, i + CHUNK);
    await run.progress(Math.floor((100 * done) / Math.max(1, ids.length)), `${done} of ${ids.length} travellers`);
  }
  // A traveller who is gone keeps no feed.
  if (!parameters.userIds) await sql`delete from match_precomputed p where not exists (select 1 from travellers t where t.id = p.user_id)`;
  return outcome;
}

/** One traveller against their candidates in one model run, best first: ScoreCandidates' ranking. */
async function topMatches(
  model: LoadedModel,
  me: TravellerRow,
  found: { profile: ReturnType<typeof toProfile> }[],
  k: number,
): Promise<{ user_id: string; score: number }[]> {
  if (found.length === 0) return [];
  const mine = toProfile(me);
  const { count, write } = model.features;
  const x = new Float32Array(found.length * count);
  found.forEach((c, i) => {
    write(mine, c.profile, undefined, x, i * count);
  });
  const scores = await model.score(x, found.length);
  return bestOf(scores, k).map((i) => ({ user_id: found[i].profile.id, score: scores[i] }));
}

async function updatedAt(sql: Sql, ids: readonly string[]): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<
    { id: string; updated_at: Date }[]
  >`select id::text, updated_at from travellers where id = any(${ids as string[]}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.updated_at]));
}

function hash(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
