import { INTERESTS, type Interest } from "../travellers/index.js";
import type { Sql } from "../runtime/storage/database.js";
import type { CostLevel, Destination } from "./catalogue.js";
import type { InteractionKind } from "./interactions.js";
import { maskOf } from "./seasons.js";

/** Reads of the destinations, travellers and interactions the recommender learns from and serves. */

export async function loadCatalogue(sql: Sql): Promise<Destination[]> {
  const rows = await sql<
    {
      id: string;
      name: string;
      country: string;
      latitude: number;
      longitude: number;
      population: string;
      tags: string[];
      cost_level: number;
      good_months: number[];
    }[]
  >`
    select id, name, country, latitude, longitude, population, tags, cost_level, good_months from destinations order by id`;
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    country: r.country,
    latitude: r.latitude,
    longitude: r.longitude,
    population: Number(r.population),
    tags: r.tags.filter((t): t is Interest => (INTERESTS as readonly string[]).includes(t)),
    costLevel: r.cost_level as CostLevel,
    goodMonths: maskOf(r.good_months),
  }));
}

export interface InteractionRow {
  userId: string;
  destinationId: string;
  kind: InteractionKind;
}

/** Every interaction, streamed in batches so a million rows do not sit in memory as objects twice. */
export async function loadInteractions(sql: Sql, onBatch: (rows: InteractionRow[]) => void): Promise<void> {
  await sql<{ user_id: string; destination_id: string; kind: InteractionKind }[]>`
    select user_id::text, destination_id, kind from destination_interactions`.cursor(10_000, (rows) => {
    onBatch(rows.map((r) => ({ userId: r.user_id, destinationId: r.destination_id, kind: r.kind })));
  });
}

/** Declared interests of many travellers. */
export async function loadInterests(sql: Sql, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < userIds.length; i += 10_000) {
    const rows = await sql<
      { id: string; interests: string[] }[]
    >`select id::text, interests from travellers where id = any(${userIds.slice(i, i + 10_000)}::uuid[])`;
    for (const r of rows) out.set(r.id, r.interests);
  }
  return out;
}

export interface TravellerRecord {
  interests: string[];
  latitude: number;
  longitude: number;
  history: { destinationId: string; kind: InteractionKind }[];
}

/** One traveller and their interactions, or undefined when no such traveller exists. */
export async function loadTraveller(sql: Sql, userId: string): Promise<TravellerRecord | undefined> {
  const [t] = await sql<
    { interests: string[]; latitude: number; longitude: number }[]
  >`select interests, latitude, longitude from travellers where id = ${userId}`;
  if (!t) return undefined;
  const history = await sql<
    { destination_id: string; kind: InteractionKind }[]
  >`select destination_id, kind from destination_interactions where user_id = ${userId}`;
  return {
    interests: t.interests,
    latitude: t.latitude,
    longitude: t.longitude,
    history: history.map((h) => ({ destinationId: h.destination_id, kind: h.kind })),
  };
}
