import type { WordVectors } from "../text/word-vectors.js";
import { DIMENSIONS } from "../text/word-vectors.js";

/** What a traveller's vector is read from. */
export interface VectorSource {
  interests: readonly string[];
  bio: string;
  promptAnswers: readonly string[];
}

/** Words of a text worth a vector (wink-nlp words without stop words; see PromptReader.contentWords). */
export type ContentWords = (text: string) => string[];

/**
 * A traveller's 100-dimensional text vector: the L2-normalised mean of the
 * word vectors of their interests, bio and prompt answers, as int8 (×127;
 * 100 bytes, stored in travellers.text_embedding). Compared with a prompt's
 * vector by cosine, it finds travellers who write about what a prompt asks
 * for in other words.
 */
export function travellerVector(source: VectorSource, words: ContentWords, vectors: WordVectors): Int8Array {
  const all = [...source.interests, ...words(source.bio), ...source.promptAnswers.flatMap((a) => words(a))];
  return quantise(vectors.mean(all));
}

/** A unit vector as int8 (×127). */
export function quantise(v: Float32Array): Int8Array {
  const out = new Int8Array(DIMENSIONS);
  for (let k = 0; k < DIMENSIONS; k++) out[k] = Math.max(-127, Math.min(127, Math.round(v[k] * 127)));
  return out;
}

/** A vector as a profile carries it: its bytes in base64. */
export function encodeVector(v: Int8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}

/** Cosine of a unit float vector with a profile's vector (0 when the traveller has none yet). */
export function similarity(query: Float32Array, stored: string | undefined): number {
  if (!stored) return 0;
  const bytes = Buffer.from(stored, "base64");
  if (bytes.length !== DIMENSIONS) return 0;
  const v = new Int8Array(bytes.buffer, bytes.byteOffset, DIMENSIONS);
  let s = 0;
  for (let k = 0; k < DIMENSIONS; k++) s += query[k] * v[k];
  return s / 127;
}
