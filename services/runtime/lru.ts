/**
 * A small LRU map with a time-to-live, for the in-process caches. Recency is
 * approximate: a read moves an entry to the young end only when it has
 * drifted out of the youngest quarter, since moving it (a Map delete and set)
 * cost more than the rest of a hit. An entry is evicted only after at least
 * three quarters of the capacity were written or moved since it was last read.
 */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; expires: number; seq: number }>();
  private seq = 0;

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    if (this.seq - e.seq > this.max / 4) {
      this.map.delete(key);
      e.seq = ++this.seq;
      this.map.set(key, e);
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expires: Date.now() + this.ttlMs, seq: ++this.seq });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** False when the time-to-live is zero: nothing is ever kept. */
  get enabled(): boolean {
    return this.ttlMs > 0;
  }
}
