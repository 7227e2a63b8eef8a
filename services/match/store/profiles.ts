import type { Sql } from "../../runtime/storage/database.js";
import { boundingBox, EARTH_RADIUS_KM } from "../../numeric/geography.js";
import { assembleProfile, type ProfileFeatures } from "../features/pair-features.js";
import { decodeTextFeatures } from "../features/text-features.js";
import { cellRanges } from "./geo-cells.js";

export interface TravellerRow {
  id: string;
  display_name: string;
  age: number;
  min_accepted_age: number;
  max_accepted_age: number;
  latitude: number;
  longitude: number;
  interests: string[];
  needs: string[];
  travel_style: string;
  bio: string;
  trips: { destination: string; start_day: number; end_day: number }[];
  text_features: Buffer | null;
  /** The int8 text vector (features/traveller-vector.ts); null until computed. */
  text_embedding: Buffer | null;
  /** The bio's and the prompt answers' int8 vectors (features/text-parts.ts); null until computed. */
  text_parts: Buffer | null;
  city: string;
}

/** A row as it comes off the wire: arrays and JSON flattened to text. */
type StoredRow = Omit<TravellerRow, "interests" | "needs" | "trips"> & { interests: string; needs: string; trips: string };

// Arrays and JSON come back as single text values: postgres.js parses text[] and jsonb character by
// character in JavaScript, which made a search over a thousand candidates spend three times as long
// decoding rows as PostgreSQL spent finding them; split() and JSON.parse() are native. Interest and
// need names never contain a comma.
const COLUMNS =
  "id, display_name, age, min_accepted_age, max_accepted_age, latitude, longitude, array_to_string(interests, ',') as interests, " +
  "array_to_string(needs, ',') as needs, travel_style, bio, trips::text as trips, text_features, text_embedding, text_parts, city";

function fromStored(r: StoredRow): TravellerRow {
  return {
    id: r.id,
    display_name: r.display_name,
    age: r.age,
    min_accepted_age: r.min_accepted_age,
    max_accepted_age: r.max_accepted_age,
    latitude: r.latitude,
    longitude: r.longitude,
    interests: r.interests ? r.interests.split(",") : [],
    needs: r.needs ? r.needs.split(",") : [],
    travel_style: r.travel_style,
    bio: r.bio,
    trips: r.trips === "[]" ? [] : (JSON.parse(r.trips) as TravellerRow["trips"]),
    text_features: r.text_features,
    text_embedding: r.text_embedding,
    text_parts: r.text_parts,
    city: r.city,
  };
}

export function toProfile(row: TravellerRow): ProfileFeatures {
  const vectors = row.text_features
    ? decodeTextFeatures(new Uint8Array(row.text_features), 3)
    : [
        { indices: [], values: [] },
        { indices: [], values: [] },
        { indices: [], values: [] },
      ];
  const profile = assembleProfile(
    {
      id: row.id,
      age: row.age,
      minAcceptedAge: row.min_accepted_age,
      maxAcceptedAge: row.max_accepted_age,
      latitude: row.latitude,
      longitude: row.longitude,
      interests: row.interests,
      needs: row.needs,
      travelStyle: row.travel_style,
      bio: row.bio,
      trips: row.trips.map((t) => ({ destination: t.destination, startDay: t.start_day, endDay: t.end_day })),
    },
    vectors,
  );
  if (row.text_embedding) profile.embedding = row.text_embedding.toString("base64");
  if (row.text_parts) profile.textParts = row.text_parts.toString("base64");
  return profile;
}

export async function loadTravellers(sql: Sql, ids: readonly string[]): Promise<TravellerRow[]> {
  if (ids.length === 0) return [];
  const rows = await sql.unsafe<StoredRow[]>(`select ${COLUMNS} from travellers where id = any($1::uuid[])`, [ids as string[]]);
  return rows.map(fromStored);
}

/** Where and whom a search looks for: the nearest `limit` inside `km` of a point and an age range. */
export interface NearbyQuery {
  latitude: number;
  longitude: number;
  km: number;
  minAge: number;
  maxAge: number;
  limit: number;
  exclude?: string;
}

/**
 * The `nearest` query: the ids of the travellers within `km` of a point and
 * inside an age range, nearest first. The covering (geo_cell, age) include
 * (latitude, longitude, id) index finds everyone in the box, one range of
 * cells per row of latitude; the great-circle distance (the formula of
 * haversineKm) drops the box's corners, and the nearest `limit` are ranked by
 * equirectangular distance (exact enough at city scale), all without reading
 * the table. `select` is what is read of them, from `nearest` (and
 * `travellers`, joined by id, when it needs more than the id).
 */
function nearestQuery(q: NearbyQuery, select: string): { text: string; params: (number | string | number[])[] } {
  const box = boundingBox(q.latitude, q.longitude, q.km);
  const lonRanges: [number, number][] =
    box.minLon < -180
      ? [
          [box.minLon + 360, 180],
          [-180, box.maxLon],
        ]
      : box.maxLon > 180
        ? [
            [box.minLon, 180],
            [-180, box.maxLon - 360],
          ]
        : [[box.minLon, box.maxLon]];
  const cells = cellRanges({ minLat: box.minLat, maxLat: box.maxLat, lonRanges });
  const params: (number | string | number[])[] = [
    cells.lo,
    cells.hi,
    box.minLat,
    box.maxLat,
    q.minAge,
    q.maxAge,
    q.exclude ?? "00000000-0000-0000-0000-000000000000",
    q.latitude,
    q.longitude,
    Math.cos((q.latitude * Math.PI) / 180),
    q.limit,
    2 * EARTH_RADIUS_KM,
    // The same formula in double precision on both sides; the margin only keeps a point on the rim.
    q.km * (1 + 1e-9),
  ];
  const lonClause = lonRanges
    .map(([from, to]) => {
      params.push(from, to);
      return `t.longitude between $${params.length - 1} and $${params.length}`;
    })
    .join(" or ");
  return {
    text: `with nearest as (
       select t.id from unnest($1::int[], $2::int[]) as c(lo, hi)
       join travellers t on t.geo_cell between c.lo and c.hi
       where t.latitude between $3 and $4 and (${lonClause}) and t.age between $5 and $6 and t.id <> $7::uuid
         and $12 * asin(least(1, sqrt(sin(radians(t.latitude - $8) / 2) ^ 2
                                      + cos(radians($8)) * cos(radians(t.latitude)) * sin(radians(t.longitude - $9) / 2) ^ 2))) <= $13
       order by (t.latitude - $8) ^ 2 + ((t.longitude - $9) * $10) ^ 2
       limit $11)
     ${select}`,
    params,
  };
}

/**
 * The travellers a search considers (see nearestQuery), their whole rows
 * read from pages that CLUSTER on the same index keeps together, and their
 * profiles decoded from them.
 */
export async function nearbyTravellers(sql: Sql, q: NearbyQuery): Promise<{ row: TravellerRow; profile: ProfileFeatures }[]> {
  const { text, params } = nearestQuery(q, `select ${COLUMNS} from nearest join travellers using (id)`);
  const out: { row: TravellerRow; profile: ProfileFeatures }[] = [];
  // Rows are decoded as they arrive, while PostgreSQL (on another core) is still reading the next ones.
  await sql.unsafe<StoredRow[]>(text, params as never[]).forEach((stored) => {
    const row = fromStored(stored);
    out.push({ row, profile: toProfile(row) });
  });
  return out;
}

/**
 * The ids of the travellers a search considers (see nearestQuery), read from
 * the index alone, for a caller that holds their profiles elsewhere (the
 * profile store); with `embeddings`, each one's text vector too (base64, as
 * ProfileFeatures.embedding; undefined until computed), which needs the table.
 */
export async function nearbyIds(sql: Sql, q: NearbyQuery, embeddings: boolean): Promise<{ id: string; embedding: string | undefined }[]> {
  const { text, params } = nearestQuery(
    q,
    embeddings
      ? "select id::text, encode(text_embedding, 'base64') as embedding from nearest join travellers using (id)"
      : "select id::text, null as embedding from nearest",
  );
  const rows = await sql.unsafe<{ id: string; embedding: string | null }[]>(text, params as never[]);
  // encode(..., 'base64') breaks lines every 76 characters; a 100-byte vector is 136.
  return rows.map((r) => ({ id: r.id, embedding: r.embedding ? r.embedding.replace(/\n/g, "") : undefined }));
}

/** The travellers table's size as PostgreSQL last counted it: pages now, and rows (estimated; -1 never counted). */
export async function tableSize(sql: Sql): Promise<{ pages: number; rows: number }> {
  const [r] = await sql<{ pages: number; rows: number }[]>`
    select (pg_relation_size('travellers') / current_setting('block_size')::int)::int as pages, reltuples::float8 as rows
      from pg_class where oid = 'travellers'::regclass`;
  return r;
}

/**
 * The travellers on pages [from, to) of the table (to undefined: every page
 * from `from` on), read in physical order by a TID range scan: a whole-table
 * read in short queries, with no transaction held open and no index walked.
 */
export async function travellersOnPages(sql: Sql, from: number, to: number | undefined): Promise<TravellerRow[]> {
  const rows =
    to === undefined
      ? await sql.unsafe<StoredRow[]>(`select ${COLUMNS} from travellers where ctid >= $1::tid`, [`(${from},0)`])
      : await sql.unsafe<StoredRow[]>(`select ${COLUMNS} from travellers where ctid >= $1::tid and ctid < $2::tid`, [
          `(${from},0)`,
          `(${to},0)`,
        ]);
  return rows.map(fromStored);
}

export async function loadIdf(sql: Sql): Promise<Float32Array | undefined> {
  const rows = await sql<{ idf: Buffer }[]>`select idf from match_text_idf where id = 1`;
  if (!rows[0]) return undefined;
  const b = rows[0].idf;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
