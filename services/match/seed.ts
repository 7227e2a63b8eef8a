import type { Database } from "../runtime/storage/database.js";
import { textVectorsOf } from "./features/pair-features.js";
import { encodeTextFeatures } from "./features/text-features.js";
import { fitIdf } from "./features/text-vectors.js";
import { generatePopulation, type PopulationMember } from "../travellers/index.js";
import { generateInteractions } from "./interactions.js";
import { textParts } from "./features/text-parts.js";
import { travellerVector } from "./features/traveller-vector.js";
import { contentWords } from "./prompt/read.js";
import { loadWordVectors } from "./text/word-vectors.js";
import { copyArray, copyBytea, copyField } from "../runtime/storage/copy-format.js";

export interface SeedOptions {
  count: number;
  seed: number;
  /** Travellers who interact (the first N); all of them below this size. */
  activeUsers?: number;
  shownPerUser?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

const IDF_SAMPLE = 50_000;

/**
 * Loads a deterministic synthetic population with COPY: the text statistics
 * (IDF, fitted on up to 50,000 profiles), every traveller with precomputed
 * text vectors (TF-IDF, the word-vector embedding and its bio and prompt-answer parts), and the interactions of the active users. A million
 * travellers stream through without being held in memory.
 */
export async function seedTravellers(db: Database, options: SeedOptions): Promise<{ travellers: number; interactions: number }> {
  const { sql } = db;
  const progress = options.onProgress ?? (() => undefined);
  const sampleSize = Math.min(options.count, IDF_SAMPLE);
  const sample = [...generatePopulation({ count: sampleSize, seed: options.seed })];
  const idf = fitIdf(sample.flatMap((m) => [m.traveller.bio, m.traveller.promptAnswers.join(". ")]));
  const vectors = await loadWordVectors();

  await sql`truncate travellers, traveller_interactions`;
  await sql`
    insert into match_text_idf (id, idf, documents) values (1, ${Buffer.from(idf.buffer)}, ${sampleSize * 2})
    on conflict (id) do update set idf = excluded.idf, documents = excluded.documents, created_at = now()`;

  let written = 0;
  function* travellerLines(): Generator<string> {
    for (const m of generatePopulation({ count: options.count, seed: options.seed })) {
      const t = m.traveller;
      const text = encodeTextFeatures(textVectorsOf(t, idf));
      const embedding = travellerVector(t, contentWords, vectors);
      const parts = textParts(t, contentWords, vectors);
      const trips = JSON.stringify(t.trips.map((x) => ({ destination: x.destination, start_day: x.startDay, end_day: x.endDay })));
      yield `${[
        t.id,
        copyField(t.displayName),
        t.age,
        t.minAcceptedAge,
        t.maxAcceptedAge,
        t.latitude,
        t.longitude,
        copyField(t.city),
        copyArray(t.interests),
        copyArray(t.needs),
        t.travelStyle,
        copyField(t.bio),
        copyArray(t.promptAnswers),
        copyField(trips),
        copyBytea(text),
        copyBytea(new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength)),
        copyBytea(new Uint8Array(parts.buffer, parts.byteOffset, parts.byteLength)),
      ].join("\t")}\n`;
      if (++written % 10_000 === 0) progress("travellers", written, options.count);
    }
  }
  const travellers = await db.copyIn(
    "travellers",
    [
      "id",
      "display_name",
      "age",
      "min_accepted_age",
      "max_accepted_age",
      "latitude",
      "longitude",
      "city",
      "interests",
      "needs",
      "travel_style",
      "bio",
      "prompt_answers",
      "trips",
      "text_features",
      "text_embedding",
      "text_parts",
    ],
    travellerLines(),
  );
  progress("travellers", travellers, options.count);

  // The first members interact; the sample already holds them.
  const active: PopulationMember[] = sample.slice(0, options.activeUsers ?? IDF_SAMPLE);
  let interactions = 0;
  function* interactionLines(): Generator<string> {
    for (const it of generateInteractions(active, { seed: options.seed, shownPerUser: options.shownPerUser ?? 12 })) {
      interactions++;
      yield `${it.fromId}\t${it.toId}\t${it.kind}\t${new Date(it.day * 86_400_000).toISOString()}\n`;
    }
  }
  await db.copyIn("traveller_interactions", ["from_id", "to_id", "kind", "created_at"], interactionLines());
  progress("interactions", interactions, interactions);
  await layOutByLocation(db);
  return { travellers, interactions };
}

/**
 * Orders the travellers table by location (CLUSTER on the distance index) and
 * refreshes its visibility map, so the nearest thousand travellers of a search
 * sit on a few hundred pages instead of a thousand scattered ones, and the
 * ranking stays an index-only scan. Production tables get the same by a
 * periodic CLUSTER or pg_repack.
 */
export async function layOutByLocation(db: Database): Promise<void> {
  await db.sql`cluster travellers using travellers_cell_age`;
  await db.sql`vacuum analyze travellers`;
}
