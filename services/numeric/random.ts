/** A small, fast, seedable PRNG (mulberry32) and the draws the synthetic data and simulations need. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  gaussian(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** k distinct items, drawn with the given weights. */
  sample<T>(items: readonly T[], k: number, weights?: readonly number[]): T[] {
    const pool = items.map((item, i) => ({ item, w: weights ? Math.max(weights[i], 1e-9) : 1 }));
    const out: T[] = [];
    while (out.length < k && pool.length) {
      const total = pool.reduce((a, p) => a + p.w, 0);
      let r = this.next() * total;
      let idx = 0;
      while (idx < pool.length - 1 && (r -= pool[idx].w) > 0) idx++;
      out.push(pool[idx].item);
      pool.splice(idx, 1);
    }
    return out;
  }

  /**
   * A UUID-shaped id (version 4 layout): random bits from this stream, with
   * `serial` in the last 12 hex digits so that ids stay unique even when two
   * streams happen to start from the same 32-bit state.
   */
  uuid(serial: number): string {
    const hex = (n: number) =>
      Math.floor(this.next() * 16 ** n)
        .toString(16)
        .padStart(n, "0");
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + this.int(0, 3)).toString(16)}${hex(3)}-${serial.toString(16).padStart(12, "0").slice(-12)}`;
  }
}
