import { describe, expect, it } from "vitest";
import { runOnThread } from "../../services/runtime/worker-pool.js";

describe("a task on a thread of its own", () => {
  it("passes its progress reports to the caller, then its result", async () => {
    const reports: unknown[][] = [];
    const result = await runOnThread<number>(
      new URL("../fixtures/progress-task.ts", import.meta.url),
      { onProgress: (...report) => reports.push(report) },
      "countTo",
      3,
    );
    expect(result).toBe(3);
    expect(reports).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it("stops the thread when the caller's signal fires", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gave up"));
    await expect(
      runOnThread(new URL("../fixtures/progress-task.ts", import.meta.url), { signal: controller.signal }, "countTo", 1),
    ).rejects.toThrow("gave up");
  });
});
