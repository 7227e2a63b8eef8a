import { afterEach, describe, expect, it, vi } from "vitest";
import { LruCache } from "../../services/runtime/lru.js";

describe("LruCache", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps what is read and evicts what is not, within capacity", () => {
    const cache = new LruCache<number>(100, 60_000);
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, i);
    // Read k0 now and then while 1,000 other keys pass through: it must survive them all.
    for (let i = 100; i < 1100; i++) {
      if (i % 20 === 0) expect(cache.get("k0")).toBe(0);
      cache.set(`k${i}`, i);
    }
    expect(cache.get("k0")).toBe(0);
    // Never-read keys went in order: the oldest are gone, the newest are there.
    expect(cache.get("k1")).toBeUndefined();
    expect(cache.get("k1050")).toBe(1050);
    let kept = 0;
    for (let i = 0; i < 1100; i++) if (cache.get(`k${i}`) !== undefined) kept++;
    expect(kept).toBeLessThanOrEqual(100);
  });

  it("expires entries after the time-to-live and keeps nothing with a zero one", () => {
    // The time-to-live is read on vitest's fake clock (Date.now), so a slow machine cannot age an entry.
    vi.useFakeTimers();
    const cache = new LruCache<string>(10, 20);
    cache.set("a", "x");
    expect(cache.get("a")).toBe("x");
    vi.advanceTimersByTime(19);
    expect(cache.get("a")).toBe("x");
    vi.advanceTimersByTime(2);
    expect(cache.get("a")).toBeUndefined();
    // Rewriting a key starts its time-to-live again.
    cache.set("b", "y");
    vi.advanceTimersByTime(15);
    cache.set("b", "z");
    vi.advanceTimersByTime(15);
    expect(cache.get("b")).toBe("z");
    const off = new LruCache<string>(10, 0);
    off.set("a", "x");
    expect(off.get("a")).toBeUndefined();
    expect(off.enabled).toBe(false);
  });
});
