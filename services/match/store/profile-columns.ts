import type { ProfileFeatures } from "../features/pair-features.js";
import { partBytes } from "../features/text-parts.js";
import type { SparseVector } from "../features/text-vectors.js";
import { DIMENSIONS } from "../text/word-vectors.js";
import { UuidIndex } from "./uuid-index.js";

// Text vector entries live in chunks of 4M (8 MiB of indices, 16 MiB of weights); a profile's never straddle two.
const CHUNK_BITS = 22;
const CHUNK = 1 << CHUNK_BITS;
const MAX_TRIPS = 255;
/** A traveller's text parts: bio then prompt answers, int8 (features/text-parts.ts). */
const PARTS = 2 * DIMENSIONS;

/**
 * Byte offsets of a slot's fixed-size fields in its 64-byte record, each
 * aligned to its size. One record per slot, rather than a column per field:
 * a profile read from a million touches one cache line for all of them
 * instead of a dozen scattered ones (each a miss, and often a TLB miss, at
 * that size), which made reading a ScoreCandidates call's 101 profiles cost
 * as much as scoring them.
 */
const RECORD = {
  latitude: 0, // float64
  longitude: 8, // float64
  revision: 16, // uint32
  textAt: 20, // uint32
  tripAt: 24, // uint32
  interests: 28, // int32
  needs: 32, // int32
  ages: 36, // int16 ×3: age, min accepted, max accepted
  textLengths: 42, // uint16 ×3: bio, prompt, document
  style: 48, // int8
  outgoing: 49, // uint8: 0, 1 or 2
  tripCount: 50, // uint8
  hasParts: 51, // uint8: 0 none yet (null in the row), read as none
  valid: 52, // uint8
} as const;

/**
 * Every traveller's scoring features in typed arrays, one row (slot) per
 * traveller: what the match models' features read and nothing more (no text
 * embedding, which only search candidates carry, read from their rows). That
 * includes the text parts model v2 compares (200 bytes a traveller, handed
 * out as a view, textPartBytes): a profile read back without them would
 * score 0 on both of v2's word-vector features. Text vectors
 * keep their float32 weights and uint16 buckets as stored
 * (text-features.ts), so a profile read back scores exactly as the one put
 * in. A profile whose values do not fit (an age past int16, 256 trips) is
 * not kept, and is read from the database as before.
 *
 * A slot is valid or not: `invalidate` keeps its row (space reused by the
 * next put) and `get` skips it. A changed profile's text is appended, not
 * written over: the old entries stay unused until the store is filled anew.
 */
export class ProfileColumns {
  readonly index = new UuidIndex();
  private capacity = 0;
  // Each slot's fixed-size fields in one 64-byte record (see RECORD): these seven are views of one buffer.
  private f64 = new Float64Array(0);
  private u32 = new Uint32Array(0);
  private i32 = new Int32Array(0);
  private i16 = new Int16Array(0);
  private u16 = new Uint16Array(0);
  private i8 = new Int8Array(0);
  private u8 = new Uint8Array(0);
  private parts = new Int8Array(0); // PARTS a slot
  private readonly bucketChunks: Uint16Array[] = [];
  private readonly weightChunks: Float32Array[] = [];
  private textEnd = 0;
  private tripDestination = new Uint16Array(0);
  private tripDays = new Int32Array(0); // start, end
  private tripEnd = 0;
  private readonly destinations: string[] = [];
  private readonly destinationIds = new Map<string, number>();
  private count = 0;
  /** What warm read, kept so that the reads are made. */
  touched = 0;

  /** Valid profiles held. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed arrays (capacity, not only what is used). */
  get bytes(): number {
    const columns = [this.u8, this.parts, this.tripDestination, this.tripDays, ...this.bucketChunks, ...this.weightChunks];
    return this.index.bytes + columns.reduce((a, c) => a + c.byteLength, 0);
  }

  /** Makes room for `n` travellers without growing meanwhile. */
  reserve(n: number): void {
    this.index.reserve(n);
    if (this.capacity < n) this.grow(n);
  }

  /** The slot of an id, created when new; -1 when the id is not a lower-case uuid. */
  slotFor(id: string): number {
    const slot = this.index.slotFor(id);
    if (slot >= this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    return slot;
  }

  isValid(slot: number): boolean {
    return this.u8[slot * 64 + RECORD.valid] === 1;
  }

  invalidate(slot: number): void {
    if (this.isValid(slot)) this.count--;
    this.u8[slot * 64 + RECORD.valid] = 0;
  }

  /** Keeps a profile in its slot; false (and the slot left invalid) when its values do not fit. */
  put(slot: number, p: ProfileFeatures): boolean {
    this.invalidate(slot);
    const texts = [p.bio, p.prompt, p.document];
    if (!fits(p) || p.trips.length > MAX_TRIPS || texts.some((t) => !fitsText(t))) return false;
    const dests = p.trips.map((t) => this.destinationId(t.destination));
    if (dests.includes(-1)) return false;
    this.f64[slot * 8 + RECORD.latitude / 8] = p.latitude;
    this.f64[slot * 8 + RECORD.longitude / 8] = p.longitude;
    const ages = slot * 32 + RECORD.ages / 2;
    this.i16[ages] = p.age;
    this.i16[ages + 1] = p.minAcceptedAge;
    this.i16[ages + 2] = p.maxAcceptedAge;
    this.i32[slot * 16 + RECORD.interests / 4] = p.interests;
    this.i32[slot * 16 + RECORD.needs / 4] = p.needs;
    this.i8[slot * 64 + RECORD.style] = p.style;
    this.u8[slot * 64 + RECORD.outgoing] = p.outgoing * 2;
    const parts = partBytes(p);
    if (parts) this.parts.set(parts, slot * PARTS);
    this.u8[slot * 64 + RECORD.hasParts] = parts ? 1 : 0;
    const total = texts.reduce((a, t) => a + t.indices.length, 0);
    if (!this.roomFor(total)) return false;
    // A profile without text points at the first entry: textEnd may stand just past a full last chunk.
    const at = total === 0 ? 0 : this.textEnd;
    const buckets = this.bucketChunks[at >>> CHUNK_BITS];
    const weights = this.weightChunks[at >>> CHUNK_BITS];
    let o = at & (CHUNK - 1);
    texts.forEach((t, k) => {
      this.u16[slot * 32 + RECORD.textLengths / 2 + k] = t.indices.length;
      for (let i = 0; i < t.indices.length; i++, o++) {
        buckets[o] = t.indices[i];
        weights[o] = t.values[i];
      }
    });
    this.u32[slot * 16 + RECORD.textAt / 4] = at;
    if (total > 0) this.textEnd = at + total;
    if (this.tripEnd + p.trips.length > this.tripDestination.length) this.growTrips(this.tripEnd + p.trips.length);
    this.u32[slot * 16 + RECORD.tripAt / 4] = this.tripEnd;
    this.u8[slot * 64 + RECORD.tripCount] = p.trips.length;
    p.trips.forEach((t, i) => {
      this.tripDestination[this.tripEnd + i] = dests[i];
      this.tripDays[(this.tripEnd + i) * 2] = t.startDay;
      this.tripDays[(this.tripEnd + i) * 2 + 1] = t.endDay;
    });
    this.tripEnd += p.trips.length;
    this.u32[slot * 16 + RECORD.revision / 4] = nextRevision();
    this.u8[slot * 64 + RECORD.valid] = 1;
    this.count++;
    return true;
  }

  /**
   * Reads a little of each slot's record, then of its text entries, text
   * parts and trips, for all the slots first: the profiles a call reads next
   * (get) and scores then are a million apart, and each of those reads
   * misses the caches. One profile at a time, each miss waits for the one
   * before; in these short loops the processor waits for many at once, and
   * get and the features find them in the caches. Slots below 0 are skipped.
   */
  warm(slots: Int32Array, n: number): void {
    const u32 = this.u32;
    let t = 0;
    for (let i = 0; i < n; i++) if (slots[i] >= 0) t ^= u32[slots[i] * 16 + RECORD.textAt / 4];
    for (let i = 0; i < n; i++) {
      const slot = slots[i];
      if (slot < 0 || !this.isValid(slot)) continue;
      const at = u32[slot * 16 + RECORD.textAt / 4];
      const lengths = slot * 32 + RECORD.textLengths / 2;
      const total = this.u16[lengths] + this.u16[lengths + 1] + this.u16[lengths + 2];
      if (total > 0) {
        // A cache line holds 32 buckets and 16 weights.
        const buckets = this.bucketChunks[at >>> CHUNK_BITS];
        const weights = this.weightChunks[at >>> CHUNK_BITS];
        const from = at & (CHUNK - 1);
        for (let o = from; o < from + total; o += 32) t ^= buckets[o];
        for (let o = from; o < from + total; o += 16) t ^= weights[o];
        t ^= buckets[from + total - 1] ^ weights[from + total - 1];
      }
      for (let o = slot * PARTS; o < (slot + 1) * PARTS; o += 64) t ^= this.parts[o];
      t ^= this.parts[(slot + 1) * PARTS - 1];
      if (this.u8[slot * 64 + RECORD.tripCount] > 0) {
        const trip = u32[slot * 16 + RECORD.tripAt / 4];
        t ^= this.tripDays[trip * 2] ^ this.tripDestination[trip];
      }
    }
    this.touched = t;
  }

  /** The profile in a valid slot, its text vectors views onto the columns (read them, never write). */
  get(slot: number, id: string): ProfileFeatures {
    const at = this.u32[slot * 16 + RECORD.textAt / 4];
    const buckets = this.bucketChunks[at >>> CHUNK_BITS];
    const weights = this.weightChunks[at >>> CHUNK_BITS];
    const lengths = slot * 32 + RECORD.textLengths / 2;
    // Views made with their constructors, not subarray (which looks up a species constructor each time), and
    // no closure: a call reads a hundred profiles, each allocated anew.
    const o = at & (CHUNK - 1);
    const nBio = this.u16[lengths];
    const nPrompt = this.u16[lengths + 1];
    const nDocument = this.u16[lengths + 2];
    const bio: SparseVector = {
      indices: new Uint16Array(buckets.buffer, o * 2, nBio),
      values: new Float32Array(weights.buffer, o * 4, nBio),
    };
    const p = o + nBio;
    const prompt: SparseVector = {
      indices: new Uint16Array(buckets.buffer, p * 2, nPrompt),
      values: new Float32Array(weights.buffer, p * 4, nPrompt),
    };
    const d = p + nPrompt;
    const document: SparseVector = {
      indices: new Uint16Array(buckets.buffer, d * 2, nDocument),
      values: new Float32Array(weights.buffer, d * 4, nDocument),
    };
    const tripAt = this.u32[slot * 16 + RECORD.tripAt / 4];
    const tripCount = this.u8[slot * 64 + RECORD.tripCount];
    // Built at its length: pushed onto [], even one trip took room for seventeen.
    const trips: ProfileFeatures["trips"] = tripCount === 0 ? [] : new Array(tripCount);
    for (let k = 0, i = tripAt; k < tripCount; k++, i++) {
      trips[k] = {
        destination: this.destinations[this.tripDestination[i]],
        startDay: this.tripDays[i * 2],
        endDay: this.tripDays[i * 2 + 1],
      };
    }
    const ages = slot * 32 + RECORD.ages / 2;
    return {
      id,
      age: this.i16[ages],
      minAcceptedAge: this.i16[ages + 1],
      maxAcceptedAge: this.i16[ages + 2],
      latitude: this.f64[slot * 8 + RECORD.latitude / 8],
      longitude: this.f64[slot * 8 + RECORD.longitude / 8],
      interests: this.i32[slot * 16 + RECORD.interests / 4],
      needs: this.i32[slot * 16 + RECORD.needs / 4],
      style: this.i8[slot * 64 + RECORD.style],
      outgoing: this.u8[slot * 64 + RECORD.outgoing] / 2,
      bio,
      prompt,
      document,
      trips,
      revision: this.u32[slot * 16 + RECORD.revision / 4],
      // Always present (undefined when none), so every profile read has one shape.
      textPartBytes: this.u8[slot * 64 + RECORD.hasParts] === 1 ? this.parts.subarray(slot * PARTS, (slot + 1) * PARTS) : undefined,
    };
  }

  /**
   * Makes room for `total` text entries at textEnd: the last chunk grows (a
   * small population never holds a whole one), or a new chunk starts.
   */
  private roomFor(total: number): boolean {
    const last = this.bucketChunks.length - 1;
    const used = this.textEnd - last * CHUNK;
    if (last >= 0 && used + total <= this.bucketChunks[last].length) return true;
    if (last >= 0 && used + total <= CHUNK) {
      const n = Math.min(CHUNK, Math.max(used + total, this.bucketChunks[last].length * 2));
      const buckets = new Uint16Array(n);
      buckets.set(this.bucketChunks[last].subarray(0, used));
      const weights = new Float32Array(n);
      weights.set(this.weightChunks[last].subarray(0, used));
      this.bucketChunks[last] = buckets;
      this.weightChunks[last] = weights;
      return true;
    }
    // Positions are uint32: 1,024 chunks (24 GiB of text) at most.
    if (this.bucketChunks.length >= 1 << (32 - CHUNK_BITS)) return false;
    this.textEnd = this.bucketChunks.length * CHUNK;
    const n = this.bucketChunks.length ? CHUNK : Math.min(CHUNK, Math.max(1 << 16, this.capacity * 64, total));
    this.bucketChunks.push(new Uint16Array(n));
    this.weightChunks.push(new Float32Array(n));
    return true;
  }

  private destinationId(name: string): number {
    let id = this.destinationIds.get(name);
    if (id === undefined) {
      if (this.destinations.length > 0xffff) return -1;
      id = this.destinations.push(name) - 1;
      this.destinationIds.set(name, id);
    }
    return id;
  }

  private grow(n: number): void {
    const old = this.capacity;
    const grown = <T extends Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(
      a: T,
      per = 1,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(n * per);
      b.set(a.subarray(0, old * per));
      return b;
    };
    this.parts = grown(this.parts, PARTS);
    const records = new ArrayBuffer(n * 64);
    new Uint8Array(records).set(this.u8.subarray(0, old * 64));
    this.f64 = new Float64Array(records);
    this.u32 = new Uint32Array(records);
    this.i32 = new Int32Array(records);
    this.i16 = new Int16Array(records);
    this.u16 = new Uint16Array(records);
    this.i8 = new Int8Array(records);
    this.u8 = new Uint8Array(records);
    this.capacity = n;
  }

  private growTrips(atLeast: number): void {
    const n = Math.max(atLeast, this.tripDestination.length * 2, 1024);
    const dest = new Uint16Array(n);
    dest.set(this.tripDestination.subarray(0, this.tripEnd));
    const days = new Int32Array(n * 2);
    days.set(this.tripDays.subarray(0, this.tripEnd * 2));
    this.tripDestination = dest;
    this.tripDays = days;
  }
}

// One numbering for every store in the process: a store filled anew after a reconnect must not reuse a revision.
let lastRevision = 0;
const nextRevision = () => (lastRevision = (lastRevision + 1) >>> 0 || 1);

const int16 = (x: number) => Number.isInteger(x) && x >= -32768 && x <= 32767;
const int32 = (x: number) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;

/** Whether the columns hold the profile's numbers exactly. */
function fits(p: ProfileFeatures): boolean {
  return (
    int16(p.age) &&
    int16(p.minAcceptedAge) &&
    int16(p.maxAcceptedAge) &&
    int32(p.interests) &&
    int32(p.needs) &&
    Number.isInteger(p.style) &&
    p.style >= -128 &&
    p.style <= 127 &&
    (p.outgoing === 0 || p.outgoing === 0.5 || p.outgoing === 1) &&
    p.trips.every((t) => int32(t.startDay) && int32(t.endDay))
  );
}

function fitsText(t: SparseVector): boolean {
  if (t.indices.length > 0xffff || t.indices.length > CHUNK / 3) return false;
  for (let i = 0; i < t.indices.length; i++) {
    const b = t.indices[i];
    const w = t.values[i];
    if (!Number.isInteger(b) || b < 0 || b > 0xffff || Math.fround(w) !== w) return false;
  }
  return true;
}
