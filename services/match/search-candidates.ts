import { haversineKm } from "../numeric/geography.js";
import type { Sql } from "../runtime/storage/database.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import type { ProfileCache } from "./profile-cache.js";
import { loadTravellers, nearbyIds, nearbyTravellers, type NearbyQuery, type TravellerRow } from "./store/profiles.js";

/** A traveller a search considers: its profile, and its row when the search read it whole. */
export interface SearchCandidate {
  profile: ProfileFeatures;
  row?: TravellerRow;
}

/**
 * The travellers a search considers: the nearest inside the radius and age
 * range (store/profiles.ts's geo prefilter). With every traveller's profile
 * in the profile store, PostgreSQL answers from its index alone (ids, and
 * text vectors when `embeddings` asks: a prompt ranked by its words scores
 * every candidate's) and the profiles come from memory; a search over a
 * million travellers spent most of its time decoding the thousand rows it
 * read (bytea as hex, text vectors, bios) into profiles it mostly threw
 * away. Without the store (or before it is filled), whole rows, decoded.
 * Each candidate's distance is checked again on its profile's coordinates.
 */
export async function searchCandidates(sql: Sql, profiles: ProfileCache, q: NearbyQuery, embeddings: boolean): Promise<SearchCandidate[]> {
  const within = (p: ProfileFeatures) => haversineKm(q.latitude, q.longitude, p.latitude, p.longitude) <= q.km;
  if (!profiles.holdsEveryone()) return (await nearbyTravellers(sql, q)).filter((c) => within(c.profile));
  const nearby = await nearbyIds(sql, q, embeddings);
  const found = await profiles.get(nearby.map((n) => n.id));
  const out: SearchCandidate[] = [];
  for (const { id, embedding } of nearby) {
    const profile = found.get(id);
    // Gone since the index was read.
    if (!profile || !within(profile)) continue;
    // A copy: the profile may be the cache's own object, shared with other calls.
    out.push({ profile: embeddings && profile.embedding !== embedding ? { ...profile, embedding } : profile });
  }
  return out;
}

/**
 * The chosen candidates with their rows (what an answer shows: name, city,
 * interests), read in one query for those that came without one, in the
 * order given. Their profiles then carry the rows' text vectors, for the
 * prompt's relevance. A candidate whose row is gone by now is undefined.
 */
export async function withRows(
  sql: Sql,
  chosen: readonly SearchCandidate[],
): Promise<({ profile: ProfileFeatures; row: TravellerRow } | undefined)[]> {
  const missing = chosen.filter((c) => !c.row).map((c) => c.profile.id);
  const read = new Map((await loadTravellers(sql, missing)).map((row) => [row.id, row]));
  return chosen.map((c) => {
    if (c.row) return { profile: c.profile, row: c.row };
    const row = read.get(c.profile.id);
    return row && { profile: { ...c.profile, embedding: row.text_embedding?.toString("base64") }, row };
  });
}
