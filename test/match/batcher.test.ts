import { afterEach, describe, expect, it, vi } from "vitest";
import { DynamicBatcher } from "../../services/runtime/batcher.js";

describe("DynamicBatcher", () => {
  // Waits are checked on vitest's fake clock (timers, setImmediate and performance.now), never on the wall clock.
  afterEach(() => {
    vi.useRealTimers();
  });

  it("coalesces requests made in the same tick into one run, in order", async () => {
    const runs: number[][] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 64,
      maxWaitMs: 1,
      run: (xs) => {
        runs.push(xs);
        return xs.map((x) => x * 2);
      },
    });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(runs).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it("never exceeds maxBatch", async () => {
    const sizes: number[] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 1,
      run: (xs) => {
        sizes.push(xs.length);
        return xs;
      },
    });
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it("runs a lone request without waiting out the timer", async () => {
    vi.useFakeTimers();
    const ranAt: number[] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 64,
      maxWaitMs: 50,
      run: (xs) => {
        ranAt.push(performance.now());
        return xs;
      },
    });
    const submittedAt = performance.now();
    const out = b.submit(1);
    await vi.runAllTimersAsync();
    expect(await out).toBe(1);
    // On the fake clock: it ran on the next macrotask, with no time passing, not after maxWaitMs.
    expect(ranAt).toEqual([submittedAt]);
  });

  it("queues behind a running batch and waits at most maxWaitMs", async () => {
    vi.useFakeTimers();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runs: number[][] = [];
    const queued: number[][] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 64,
      maxWaitMs: 5,
      run: async (xs) => {
        runs.push(xs);
        if (xs[0] === 0) await gate;
        return xs;
      },
      observe: (o) => queued.push(o.queueSeconds),
    });
    const first = b.submit(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([[0]]);
    const later = [b.submit(1), b.submit(2)];
    // Batch 0 is still running: 1 and 2 wait together, but not a fake millisecond past maxWaitMs.
    await vi.advanceTimersByTimeAsync(4);
    expect(runs).toEqual([[0]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([[0], [1, 2]]);
    release();
    await vi.runAllTimersAsync();
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2]);
    expect(queued).toContainEqual([0.005, 0.005]);
  });

  it("fails every request of a failed batch, and reports observations", async () => {
    const seen: number[] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 8,
      maxWaitMs: 1,
      run: () => {
        throw new Error("model exploded");
      },
      observe: (o) => seen.push(o.size),
    });
    const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(seen).toEqual([]);
    const ok = new DynamicBatcher<number, number>({ maxBatch: 8, maxWaitMs: 1, run: (xs) => xs, observe: (o) => seen.push(o.size) });
    await Promise.all([ok.submit(1), ok.submit(2), ok.submit(3)]);
    expect(seen).toEqual([3]);
  });
});
