import { describe, expect, it } from "vitest";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { postponeMs } from "../../services/jobs/outage.js";
import { checkNoNul } from "../../services/jobs/parameters.js";
import { fetchers } from "../../services/jobs/worker.js";

describe("the queue prefix", () => {
  it("is MLMESH_REDIS_PREFIX unless MLMESH_QUEUE_PREFIX names another", () => {
    expect(loadJobsConfig({}).prefix).toBe("mlmesh");
    expect(loadJobsConfig({ MLMESH_REDIS_PREFIX: "team-a" }).prefix).toBe("team-a");
    expect(loadJobsConfig({ MLMESH_REDIS_PREFIX: "team-a", MLMESH_QUEUE_PREFIX: "queues-a" }).prefix).toBe("queues-a");
    // The mesh hands its own MLMESH_REDIS_PREFIX over, read from settings the environment may not hold.
    expect(loadJobsConfig({}, "from-mesh").prefix).toBe("from-mesh");
    expect(loadJobsConfig({ MLMESH_QUEUE_PREFIX: "queues-a" }, "from-mesh").prefix).toBe("queues-a");
    expect(() => loadJobsConfig({ MLMESH_QUEUE_PREFIX: "a:b" })).toThrow(/MLMESH_QUEUE_PREFIX="a:b"/);
  });
});

describe("NUL characters in a submit", () => {
  it("are named where they are: the idempotency key, or the parameter holding one at any depth", () => {
    expect(checkNoNul("", { a: "x", b: [1, { c: "y" }] })).toBeUndefined();
    expect(checkNoNul("k\0", {})?.field).toBe("idempotency_key");
    expect(checkNoNul("", { ids: ["ok", "n\0"] })).toEqual({
      field: "parameters.ids",
      rule: "parameters.no_nul",
      message: "must not contain a NUL character (U+0000)",
    });
    expect(checkNoNul("", { outer: { "in\0ner": 1 } })?.field).toBe("parameters.outer");
    expect(checkNoNul("", { "x\0": 1 })?.field).toBe("parameters.x\\u0000");
  });
});

describe("a job put off by a PostgreSQL outage", () => {
  it("waits the backoff, doubling, from a quarter second to five seconds", () => {
    expect(postponeMs(50, 0)).toBe(250);
    expect(postponeMs(50, 1)).toBe(500);
    expect(postponeMs(1000, 0)).toBe(1000);
    expect(postponeMs(1000, 2)).toBe(4000);
    expect(postponeMs(1000, 3)).toBe(5000);
    expect(postponeMs(1000, 1000)).toBe(5000);
  });
});

describe("a queue's worker slots", () => {
  it("are split among up to four BullMQ workers, evenly, each with a slot at least, adding up to the concurrency", () => {
    expect(fetchers(1)).toEqual([1]);
    expect(fetchers(2)).toEqual([1, 1]);
    expect(fetchers(7)).toEqual([2, 2, 2, 1]);
    expect(fetchers(64)).toEqual([16, 16, 16, 16]);
    for (let c = 1; c <= 100; c++) expect(fetchers(c).reduce((a, b) => a + b, 0)).toBe(c);
  });
});
