// Where the dashes of a uuid's 36 characters stand.
const DASHES = [8, 13, 18, 23];

/** A lower-case hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Traveller ids to slot numbers, for a million ids without a million strings:
 * each id is kept as its 16 bytes (four uint32) and found by open addressing
 * over a power-of-two table of slot numbers. About 32 bytes per id, where a
 * Map of id strings takes about 100 and gives the garbage collector a million
 * objects to walk. Slots are handed out in order and never given back.
 */
export class UuidIndex {
  private keys = new Uint32Array(0);
  private table = new Int32Array(16);
  private used = 0;
  private readonly parsed = new Uint32Array(4);
  // findMany's scratch: the ids' words, and their first table entries.
  private scratch = new Uint32Array(0);
  private entries = new Int32Array(0);
  /** What findMany's early reads summed, kept so that the reads are made. */
  touched = 0;

  /** Slots handed out so far. */
  get size(): number {
    return this.used;
  }

  /** Bytes held by the index. */
  get bytes(): number {
    return this.keys.byteLength + this.table.byteLength;
  }

  /** Makes room for `n` ids without growing meanwhile. */
  reserve(n: number): void {
    if (this.keys.length < n * 4) this.growKeys(n);
    if (this.table.length < n * 2) this.rehash(n * 2);
  }

  /** The id's slot, or -1 when it has none (or is not a lower-case uuid). */
  find(id: string): number {
    if (!this.parse(id)) return -1;
    return this.lookup(this.parsed);
  }

  /**
   * The slots of many ids at once (-1 for an id without one, or not a
   * lower-case uuid), into `out`: what find gives each, found step by step
   * for all of them together. With a million ids, each lookup's reads of the
   * table and then of the keys miss the caches (and the TLB); one id at a
   * time, each waits for the last, while a short loop over all the ids'
   * table entries, then over their keys, has the processor wait for many of
   * those misses at once.
   */
  findMany(ids: readonly string[], out: Int32Array): void {
    const n = ids.length;
    if (this.scratch.length < n * 4) this.scratch = new Uint32Array(n * 8);
    const words = this.scratch;
    const table = this.table;
    const keys = this.keys;
    const mask = table.length - 1;
    // Where each id's probe starts (-1: not a uuid).
    for (let i = 0; i < n; i++) {
      if (!this.parse(ids[i])) {
        out[i] = -1;
        continue;
      }
      words.set(this.parsed, i * 4);
      out[i] = hash(this.parsed[0], this.parsed[1], this.parsed[2], this.parsed[3]) & mask;
    }
    // The table entries, all read before any is used; then each probe finished (its keys read) as find does.
    const first = this.entries.length < n ? (this.entries = new Int32Array(n * 2)) : this.entries;
    for (let i = 0; i < n; i++) first[i] = out[i] < 0 ? 0 : table[out[i]];
    let touched = 0;
    for (let i = 0; i < n; i++) if (first[i] > 0) touched ^= keys[(first[i] - 1) * 4];
    this.touched = touched;
    for (let i = 0; i < n; i++) if (out[i] >= 0) out[i] = this.probe(words, i * 4, out[i]);
  }

  /** The id's slot, handed out now when it has none; -1 when `id` is not a lower-case uuid. */
  slotFor(id: string): number {
    if (!this.parse(id)) return -1;
    const found = this.lookup(this.parsed);
    if (found >= 0) return found;
    if (this.used * 4 >= this.keys.length) this.growKeys(Math.max(1024, this.used * 2));
    if ((this.used + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const slot = this.used++;
    this.keys.set(this.parsed, slot * 4);
    this.place(slot);
    return slot;
  }

  // Character by character: a regular expression, slices and parseInt cost several times the lookup itself
  // (a ScoreCandidates call parses 101 ids). The 32 digits make four words of 8, as parseInt read them.
  private parse(id: string): boolean {
    if (id.length !== 36) return false;
    for (const d of DASHES) if (id.charCodeAt(d) !== 45) return false;
    const p = this.parsed;
    let word = 0;
    let digits = 0;
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) continue;
      const v = hexDigit(id.charCodeAt(i));
      if (v < 0) return false;
      word = word * 16 + v;
      if (++digits % 8 === 0) {
        p[digits / 8 - 1] = word;
        word = 0;
      }
    }
    return true;
  }

  private lookup(k: Uint32Array): number {
    return this.probe(k, 0, hash(k[0], k[1], k[2], k[3]) & (this.table.length - 1));
  }

  /** The slot of the key at words[w..w+3], probing from table entry `start`; -1 when it has none. */
  private probe(words: Uint32Array, w: number, start: number): number {
    const { table, keys } = this;
    const mask = table.length - 1;
    for (let i = start; ; i = (i + 1) & mask) {
      const v = table[i];
      if (v === 0) return -1;
      const o = (v - 1) * 4;
      if (keys[o] === words[w] && keys[o + 1] === words[w + 1] && keys[o + 2] === words[w + 2] && keys[o + 3] === words[w + 3])
        return v - 1;
    }
  }

  private place(slot: number): void {
    const mask = this.table.length - 1;
    const o = slot * 4;
    let i = hash(this.keys[o], this.keys[o + 1], this.keys[o + 2], this.keys[o + 3]) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  private growKeys(ids: number): void {
    const keys = new Uint32Array(ids * 4);
    keys.set(this.keys.subarray(0, this.used * 4));
    this.keys = keys;
  }

  private rehash(atLeast: number): void {
    let size = 16;
    while (size < atLeast) size *= 2;
    this.table = new Int32Array(size);
    for (let s = 0; s < this.used; s++) this.place(s);
  }
}

/** Mixes the four words (uuids from other generators than v4 are not uniform in any one word). */
function hash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ d, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
