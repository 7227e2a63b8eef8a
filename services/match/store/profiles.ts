import type { Sql } from "../../runtime/storage/database.js";
import { boundingBox } from "../features/haversine.js";
import { assembleProfile, type ProfileFeatures } from "../features/pair-features.js";
import { decodeTextFeatures } from "../features/text-features.js";

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
  prompt_answers: string[];
  trips: { destination: string; start_day: number; end_day: number }[];
  text_features: Buffer | null;
}

const COLUMNS = "id, display_name, age, min_accepted_age, max_accepted_age, latitude, longitude, interests, needs, travel_style, bio, prompt_answers, trips, text_features";

export function toProfile(row: TravellerRow): ProfileFeatures {
  const vectors = row.text_features
    ? decodeTextFeatures(new Uint8Array(row.text_features), 3)
    : [
        { indices: [], values: [] },
        { indices: [], values: [] },
        { indices: [], values: [] },
      ];
  return assembleProfile(
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
      promptAnswers: row.prompt_answers,
      trips: row.trips.map((t) => ({ destination: t.destination, startDay: t.start_day, endDay: t.end_day })),
    },
    vectors,
  );
}

export async function loadTravellers(sql: Sql, ids: readonly string[]): Promise<TravellerRow[]> {
  if (ids.length === 0) return [];
  return sql.unsafe<TravellerRow[]>(`select ${COLUMNS} from travellers where id = any($1::uuid[])`, [ids as string[]]);
}

/**
 * Travellers within `km` of a point and inside an age range: the covering
 * (latitude, longitude, age) include (id) index ranks the nearest `limit` by
 * equirectangular distance without reading the table (exact enough at city
 * scale; exact haversine is applied after), then only those rows are read.
 */
export async function nearbyTravellers(
  sql: Sql,
  q: { latitude: number; longitude: number; km: number; minAge: number; maxAge: number; limit: number; exclude?: string },
): Promise<TravellerRow[]> {
  const box = boundingBox(q.latitude, q.longitude, q.km);
  const cos = Math.cos((q.latitude * Math.PI) / 180);
  const lonRanges =
    box.minLon < -180
      ? [[box.minLon + 360, 180], [-180, box.maxLon]]
      : box.maxLon > 180
        ? [[box.minLon, 180], [-180, box.maxLon - 360]]
        : [[box.minLon, box.maxLon]];
  const lonClause = lonRanges.map((_, i) => `(longitude between $${4 + 2 * i} and $${5 + 2 * i})`).join(" or ");
  const params: (number | string)[] = [box.minLat, box.maxLat, q.minAge, ...lonRanges.flat()];
  params.push(q.maxAge, q.latitude, q.longitude, cos, q.limit, q.exclude ?? "00000000-0000-0000-0000-000000000000");
  const n = params.length;
  return sql.unsafe<TravellerRow[]>(
    `with nearest as (
       select id from travellers
       where latitude between $1 and $2 and (${lonClause}) and age between $3 and $${n - 5} and id <> $${n}::uuid
       order by (latitude - $${n - 4}) ^ 2 + ((longitude - $${n - 3}) * $${n - 2}) ^ 2
       limit $${n - 1})
     select ${COLUMNS.split(", ").map((c) => `t.${c}`).join(", ")} from nearest join travellers t using (id)`,
    params,
  );
}

export async function loadIdf(sql: Sql): Promise<Float32Array | undefined> {
  const rows = await sql<{ idf: Buffer }[]>`select idf from match_text_idf where id = 1`;
  if (!rows[0]) return undefined;
  const b = rows[0].idf;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
