import { describe, expect, it } from "vitest";
import { DynamicBatcher } from "../../services/runtime/batcher.js";

describe("DynamicBatcher", () => {
  it("coalesces requests made in the same tick into one run, in order", async () => {
    const runs: number[][] = [];
    const b = new DynamicBatcher<number, number>({ maxBatch: 64, maxWaitMs: 1, run: (xs) => (runs.push(xs), xs.map((x) => x * 2)) });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(runs).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it("never exceeds maxBatch", async () => {
    const sizes: number[] = [];
    const b = new DynamicBatcher<number, number>({ maxBatch: 4, maxWaitMs: 1, run: (xs) => (sizes.push(xs.length), xs) });
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it("runs a lone request without waiting out the timer", async () => {
    const b = new DynamicBatcher<number, number>({ maxBatch: 64, maxWaitMs: 50, run: (xs) => xs });
    const t = performance.now();
    await b.submit(1);
    expect(performance.now() - t).toBeLessThan(20);
  });

  it("queues behind a running batch and waits at most maxWaitMs", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runs: number[][] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatch: 64,
      maxWaitMs: 5,
      run: async (xs) => {
        runs.push(xs);
        if (xs[0] === 0) await gate;
        return xs;
      },
    });
    const first = b.submit(0);
    await new Promise((r) => setImmediate(r));
    const later = [b.submit(1), b.submit(2)];
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual([[0], [1, 2]]);
    release();
    await Promise.all([first, ...later]);
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
