import type { WordVectors } from "../text/word-vectors.js";
import { DIMENSIONS } from "../text/word-vectors.js";
import { quantise, type ContentWords, type VectorSource } from "./traveller-vector.js";

/**
 * A traveller's bio and prompt answers as two separate word-vector means
 * (each L2-normalised, int8 ×127, bio first: 200 bytes, stored in
 * travellers.text_parts). Match model v2 compares two travellers' bios and
 * their answers by the cosine of these: the same meaning in other words
 * (a "serene" bio and an "unhurried" one) counts, where the TF-IDF features
 * of v1 count only words written the same.
 */
export function textParts(source: Pick<VectorSource, "bio" | "promptAnswers">, words: ContentWords, vectors: WordVectors): Int8Array {
  const out = new Int8Array(2 * DIMENSIONS);
  out.set(quantise(vectors.mean(words(source.bio))), 0);
  out.set(quantise(vectors.mean(source.promptAnswers.flatMap((a) => words(a)))), DIMENSIONS);
  return out;
}

/** What a profile carries of its parts: the 200 bytes in base64 (absent until computed). */
export interface WithTextParts {
  textParts?: string;
}

// Decoded once per profile object (the profile cache holds one object per traveller until it changes).
const decoded = new WeakMap<WithTextParts, Int8Array | null>();

function partsOf(p: WithTextParts): Int8Array | null {
  let v = decoded.get(p);
  if (v === undefined) {
    const bytes = p.textParts ? Buffer.from(p.textParts, "base64") : undefined;
    v = bytes?.length === 2 * DIMENSIONS ? new Int8Array(bytes.buffer, bytes.byteOffset, 2 * DIMENSIONS) : null;
    decoded.set(p, v);
  }
  return v;
}

/**
 * The mean of travellers' parts (200 values, bio then answers), from the
 * profiles a model is trained on and stored with it. Means of word vectors
 * share a large common direction (every bio says "travelling", every answer
 * "looking for"), so raw cosines sit near 0.7 whatever was written;
 * comparing the parts after taking the mean away leaves what sets one
 * traveller's wording apart from everyone's.
 */
export function partCentre(profiles: Iterable<WithTextParts>): Float32Array {
  const sum = new Float64Array(2 * DIMENSIONS);
  let n = 0;
  for (const p of profiles) {
    const v = partsOf(p);
    if (!v) continue;
    for (let k = 0; k < 2 * DIMENSIONS; k++) sum[k] += v[k] / 127;
    n++;
  }
  return Float32Array.from(sum, (s) => (n ? s / n : 0));
}

// Each profile's parts with a centre taken away and each half normalised: one entry per profile object
// (the profile cache holds one object per traveller until it changes), for the centre last used with it.
const centred = new WeakMap<WithTextParts, { centre: Float32Array; parts: Float32Array | null }>();

function centredParts(p: WithTextParts, centre: Float32Array): Float32Array | null {
  const known = centred.get(p);
  if (known?.centre === centre) return known.parts;
  let parts: Float32Array | null = null;
  const bytes = p.textParts ? Buffer.from(p.textParts, "base64") : undefined;
  if (bytes?.length === 2 * DIMENSIONS) {
    parts = new Float32Array(2 * DIMENSIONS);
    for (const from of [0, DIMENSIONS]) {
      let norm = 0;
      for (let k = from; k < from + DIMENSIONS; k++) {
        // The bytes are int8 (×127): read as signed.
        const value = (bytes[k] << 24) >> 24;
        parts[k] = value / 127 - centre[k];
        norm += parts[k] * parts[k];
      }
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let k = from; k < from + DIMENSIONS; k++) parts[k] *= scale;
    }
  }
  centred.set(p, { centre, parts });
  return parts;
}

/**
 * Cosine of two travellers' bios and of their prompt answers, in that order,
 * each part taken from `centre` first (partCentre): 0 where either has no
 * parts yet. Symmetric; 200 multiplications a pair once each profile's
 * centred parts are computed (once per profile and model).
 */
export function partSimilarities(a: WithTextParts, b: WithTextParts, centre: Float32Array): [number, number] {
  const u = centredParts(a, centre);
  const v = centredParts(b, centre);
  if (!u || !v) return [0, 0];
  let bio = 0;
  let answers = 0;
  for (let k = 0; k < DIMENSIONS; k++) bio += u[k] * v[k];
  for (let k = DIMENSIONS; k < 2 * DIMENSIONS; k++) answers += u[k] * v[k];
  return [bio, answers];
}

/** Parts as a profile carries them. */
export function encodeParts(v: Int8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}
