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

/**
 * What a profile carries of its parts (both absent until computed): the 200
 * bytes in base64 as read from the database and carried through the cache
 * levels as JSON, or the bytes themselves, a view onto the profile store's
 * column (store/profile-columns.ts), which builds a new object on every read
 * and so must not cost a base64 round trip each time.
 */
export interface WithTextParts {
  textParts?: string;
  /** Read only: a view onto the store's column. Takes precedence over textParts. */
  textPartBytes?: Int8Array;
}

/** A profile's 200 part bytes (int8), or null when it has none (or not 200 of them). */
export function partBytes(p: WithTextParts): Int8Array | null {
  if (p.textPartBytes) return p.textPartBytes.length === 2 * DIMENSIONS ? p.textPartBytes : null;
  const bytes = p.textParts ? Buffer.from(p.textParts, "base64") : undefined;
  return bytes?.length === 2 * DIMENSIONS ? new Int8Array(bytes.buffer, bytes.byteOffset, 2 * DIMENSIONS) : null;
}

// Decoded once per profile object (the profile cache holds one object per traveller until it changes).
const decoded = new WeakMap<WithTextParts, Int8Array | null>();

function partsOf(p: WithTextParts): Int8Array | null {
  let v = decoded.get(p);
  if (v === undefined) {
    v = partBytes(p);
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

// Where a store profile is centred: it builds a new object on every read, so an entry in `centred` would
// serve one pair and then be garbage (the WeakMap's churn cost several times the centring itself). The side
// centred is one side of a batch (ScoreCandidates' traveller, a search's searcher), the same object for every
// pair: centred once for all of them.
const scratch = new Float32Array(2 * DIMENSIONS);
const inScratch: { profile: WithTextParts | undefined; centre: Float32Array | undefined } = { profile: undefined, centre: undefined };

/** Writes `bytes` less `centre`, each half normalised, into `parts` (float32: the same values whichever way read). */
function centreInto(bytes: Int8Array, centre: Float32Array, parts: Float32Array): Float32Array {
  for (let from = 0; from < 2 * DIMENSIONS; from += DIMENSIONS) {
    let norm = 0;
    for (let k = from; k < from + DIMENSIONS; k++) {
      parts[k] = bytes[k] / 127 - centre[k];
      norm += parts[k] * parts[k];
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = from; k < from + DIMENSIONS; k++) parts[k] *= scale;
  }
  return parts;
}

/** A profile's centred parts: cached per object, or (the store's views) written into scratch. */
function centredParts(p: WithTextParts, centre: Float32Array): Float32Array | null {
  if ("textPartBytes" in p) {
    const bytes = partBytes(p);
    if (!bytes) return null;
    if (inScratch.profile === p && inScratch.centre === centre) return scratch;
    inScratch.profile = p;
    inScratch.centre = centre;
    return centreInto(bytes, centre, scratch);
  }
  const known = centred.get(p);
  if (known?.centre === centre) return known.parts;
  // Decoded straight into the centred parts, not through partsOf: its cache would hold a second entry per profile.
  const bytes = partBytes(p);
  const parts = bytes ? centreInto(bytes, centre, new Float32Array(2 * DIMENSIONS)) : null;
  centred.set(p, { centre, parts });
  return parts;
}

/** A profile's part bytes: the store's view as it is, else decoded once per profile object. */
function rawParts(p: WithTextParts): Int8Array | null {
  return "textPartBytes" in p ? partBytes(p) : partsOf(p);
}

// Below this, (bytes/127 - centre) is taken as zero, as centreInto's exact zero would be.
const NO_NORM = 1e-9;

/** byte/127 for every int8 byte (at byte + 128): the very quotients, read instead of divided for each byte of each pair. */
const PER_127 = Float64Array.from({ length: 256 }, (_, i) => (i - 128) / 127);

/**
 * The sums over the side `u` alone (u·c and c·c, each half), which every
 * candidate's cosines with it share: summed once, in the order halfCosine
 * summed them beside its own, so the same numbers.
 */
class LeadSums {
  uc = [0, 0];
  cc = [0, 0];
  private profile: WithTextParts | undefined;
  private centre: Float32Array | undefined;
  private u: Float32Array | undefined;

  of(p: WithTextParts, u: Float32Array, centre: Float32Array): this {
    if (this.profile === p && this.centre === centre && this.u === u) return this;
    for (let half = 0; half < 2; half++) {
      let uc = 0;
      let cc = 0;
      for (let k = half * DIMENSIONS; k < (half + 1) * DIMENSIONS; k++) {
        const c = centre[k];
        uc += u[k] * c;
        cc += c * c;
      }
      this.uc[half] = uc;
      this.cc[half] = cc;
    }
    this.profile = p;
    this.centre = centre;
    this.u = u;
    return this;
  }
}

const leadSums = new LeadSums();

/**
 * The cosine of `u` (one half of centred, normalised parts) with the same
 * half of `bytes`/127 less `centre`, without writing that difference out:
 * u·(B−c) / ‖B−c‖ expands to sums over B alone (u·B, B·B, B·c; u·c and c·c
 * beside them, the same for every B: LeadSums), one pass and no stores.
 * Centring every candidate first cost as much as all of v1's features
 * together.
 */
function halfCosine(u: Float32Array, bytes: Int8Array, centre: Float32Array, from: number, uc: number, cc: number): number {
  let ub = 0;
  let bb = 0;
  let bc = 0;
  for (let k = from; k < from + DIMENSIONS; k++) {
    const x = PER_127[bytes[k] + 128];
    ub += u[k] * x;
    bb += x * x;
    bc += x * centre[k];
  }
  const norm2 = bb - 2 * bc + cc;
  return norm2 > NO_NORM ? (ub - uc) / Math.sqrt(norm2) : 0;
}

/**
 * Cosine of two travellers' bios and of their prompt answers, in that order,
 * each part taken from `centre` first (partCentre): 0 where either has no
 * parts yet. Symmetric (up to rounding). `a` is centred (once per profile
 * object and model; a store profile, once per batch it leads), `b` read as
 * stored (halfCosine): one pass over its 200 bytes, without allocating.
 */
export function partSimilarities(a: WithTextParts, b: WithTextParts, centre: Float32Array): [number, number] {
  const u = centredParts(a, centre);
  const bytes = rawParts(b);
  if (!u || !bytes) return [0, 0];
  const { uc, cc } = leadSums.of(a, u, centre);
  return [halfCosine(u, bytes, centre, 0, uc[0], cc[0]), halfCosine(u, bytes, centre, DIMENSIONS, uc[1], cc[1])];
}

/** Parts as a profile carries them. */
export function encodeParts(v: Int8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}
