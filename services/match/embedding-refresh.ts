import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import { textParts } from "./features/text-parts.js";
import { travellerVector } from "./features/traveller-vector.js";
import { contentWords } from "./prompt/read.js";
import type { WordVectors } from "./text/word-vectors.js";

const BATCH = 500;
const DELAY_MS = 50;

/**
 * Keeps travellers.text_embedding and text_parts (match v2's bio and
 * prompt-answer vectors) in step with the profile they are read from.
 * A changed profile is announced by PostgreSQL (row changes, as for the
 * profile cache); the ids are gathered for a moment, their vectors
 * recomputed and written where they differ. Writing only a different vector
 * ends the loop: the write is announced in turn, but recomputing it gives
 * the same bytes and nothing more is written. Every server does this for
 * every change; the second write of the same vector touches no row.
 * Travellers inserted without a vector (inserts are not announced) are
 * filled in at start (backfill).
 */
export class EmbeddingRefresher {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly sql: Sql,
    private readonly vectors: WordVectors,
  ) {}

  /** A traveller's profile changed: their vector is recomputed shortly. */
  changed(id: string): void {
    if (this.closed) return;
    this.pending.add(id);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const ids = [...this.pending];
      this.pending.clear();
      this.running = this.running
        .then(async () => {
          await this.refresh(ids);
        })
        .catch((err: unknown) => {
          log.warn("traveller vectors not refreshed (they are on the next change of those profiles)", {
            error: String(err),
            travellers: ids.length,
          });
        });
    }, DELAY_MS);
  }

  /** Computes and writes the vectors of travellers who have none, a batch at a time. */
  async backfill(): Promise<number> {
    let done = 0;
    while (!this.closed) {
      const rows = await this.sql.unsafe<{ id: string }[]>(
        `select id from travellers where text_embedding is null or text_parts is null limit ${BATCH}`,
      );
      if (rows.length === 0) break;
      done += await this.refresh(rows.map((r) => r.id));
    }
    return done;
  }

  /** Recomputes the given travellers' vectors; returns how many were written (changed). */
  async refresh(ids: readonly string[]): Promise<number> {
    let written = 0;
    for (let k = 0; k < ids.length; k += BATCH) {
      const rows = await this.sql.unsafe<
        { id: string; interests: string; bio: string; answers: string; embedding: Buffer | null; parts: Buffer | null }[]
      >(
        `select id, array_to_string(interests, ',') as interests, bio, array_to_json(prompt_answers)::text as answers,
                text_embedding as embedding, text_parts as parts
           from travellers where id = any($1::uuid[])`,
        [ids.slice(k, k + BATCH) as string[]],
      );
      const changedIds: string[] = [];
      const hex: string[] = [];
      const partsHex: string[] = [];
      for (const r of rows) {
        const source = {
          interests: r.interests ? r.interests.split(",") : [],
          bio: r.bio,
          promptAnswers: JSON.parse(r.answers) as string[],
        };
        const v = travellerVector(source, contentWords, this.vectors);
        const p = textParts(source, contentWords, this.vectors);
        const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        const partBytes = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
        if (r.embedding && Buffer.compare(bytes, r.embedding) === 0 && r.parts && Buffer.compare(partBytes, r.parts) === 0) continue;
        changedIds.push(r.id);
        hex.push(bytes.toString("hex"));
        partsHex.push(partBytes.toString("hex"));
      }
      if (changedIds.length === 0) continue;
      const updated = await this.sql.unsafe(
        `update travellers t set text_embedding = decode(v.e, 'hex'), text_parts = decode(v.p, 'hex')
           from unnest($1::uuid[], $2::text[], $3::text[]) as v(id, e, p)
          where t.id = v.id
            and (t.text_embedding is distinct from decode(v.e, 'hex') or t.text_parts is distinct from decode(v.p, 'hex'))`,
        [changedIds, hex, partsHex],
      );
      written += updated.count ?? changedIds.length;
    }
    return written;
  }

  /** Stops taking changes and waits for the refresh under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
