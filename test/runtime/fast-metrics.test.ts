import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FastCounter, FastHistogram } from "../../services/runtime/fast-metrics.js";

/** The same metric twice, prom-client's and ours, each in a registry of its own. */
function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const config = {
    name: "t_seconds",
    help: "A test histogram.",
    labelNames: ["method", "transport"] as const,
    buckets: [0.001, 0.01, 0.1, 1],
  };
  const counter = { name: "t_total", help: "A test counter.", labelNames: ["cache"] as const };
  return {
    theirs,
    ours,
    h: [new Histogram({ ...config, registers: [theirs] }), new FastHistogram({ ...config, registers: [ours] })] as const,
    c: [new Counter({ ...counter, registers: [theirs] }), new FastCounter({ ...counter, registers: [ours] })] as const,
  };
}

describe("fast metrics", () => {
  it("render exactly as prom-client renders the same observations", async () => {
    const { theirs, ours, h, c } = pair();
    const observations = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 3, 0];
    for (const m of h) {
      for (const v of observations) m.labels("ScoreMatch", "grpc").observe(v);
      m.labels("Check", "connect").observe(0.02);
    }
    for (const m of c) {
      m.labels("match_profile").inc(2);
      m.labels("match_profile").inc();
      m.labels("notify_state").inc(0.5);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it("keep handed-out children working after a reset, and refuse what prom-client refuses", async () => {
    const { theirs, ours, h } = pair();
    const child = h[1].labels("A", "grpc");
    child.observe(0.5);
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    child.observe(0.002);
    h[0].labels("A", "grpc").observe(0.002);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(() => child.observe(Number.NaN)).toThrow(TypeError);
    expect(() => h[1].labels("only one")).toThrow(/label values/);
  });
});
