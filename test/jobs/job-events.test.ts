import type { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { JobEvents, UPDATE_COALESCE_MS } from "../../services/jobs/events.js";
import { testRedisPrefix, TEST_REDIS_URL } from "../support/scope.js";

afterEach(() => {
  vi.useRealTimers();
});

// A worker starts and ends jobs a few per tick; their "updated" notifications go out together (services/jobs/events.ts).
describe("job update notifications", () => {
  it("gather the updates of several ticks into one message, each job once, and still go out", async () => {
    const published: [string, string][] = [];
    const publisher = { publish: async (channel: string, message: string) => void published.push([channel, message]) };
    const events = new JobEvents(TEST_REDIS_URL, testRedisPrefix(), publisher as unknown as Redis);
    // The process's clock, ticks included, is the test's from here: the window does not depend on the machine's load.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate"] });
    try {
      events.updated("a");
      vi.advanceTimersByTime(1);
      events.updated("b");
      events.updated("a");
      vi.advanceTimersByTime(1);
      events.updated("c");
      expect(published).toEqual([]);
      vi.advanceTimersByTime(UPDATE_COALESCE_MS);
      expect(published).toEqual([[events.updatedChannel, "a,b,c"]]);
      events.updated("d");
      vi.advanceTimersByTime(UPDATE_COALESCE_MS);
      expect(published.map(([, m]) => m)).toEqual(["a,b,c", "d"]);
    } finally {
      vi.useRealTimers();
      events.close();
    }
  });
});
