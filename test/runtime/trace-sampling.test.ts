import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../services/runtime/config.js";
import { startMesh } from "../../services/runtime/mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { OtlpReceiver } from "../support/otlp-receiver.js";
import { testRedisPrefix, testScope, type TestScope } from "../support/scope.js";

let receiver: OtlpReceiver;
let scope: TestScope;

beforeAll(async () => {
  receiver = await new OtlpReceiver().start();
  scope = await testScope();
});
afterAll(async () => {
  await receiver?.close();
});

type Parent = "sampled" | "unsampled" | "none";

/**
 * Starts a mesh (no areas: Health is enough) exporting to the receiver under
 * `serviceName` with the given OTEL_* settings, sends one Health.Check over
 * Connect for each kind of caller, stops the mesh (which flushes), and
 * returns the trace id each call had.
 */
async function callsUnder(serviceName: string, otel: Record<string, string>, parents: Parent[]): Promise<Record<Parent, string>> {
  return (await callsWithCallers(serviceName, otel, parents)).traces;
}

/** As callsUnder, with the span id each caller sent in its traceparent. */
async function callsWithCallers(
  serviceName: string,
  otel: Record<string, string>,
  parents: Parent[],
): Promise<{ traces: Record<Parent, string>; callers: Partial<Record<Parent, string>> }> {
  const config = loadConfig({
    GRPC_PORT: "0",
    CONNECT_PORT: "0",
    ADMIN_PORT: "0",
    GATEWAY_PORT: "0",
    MLMESH_HOST: "127.0.0.1",
    MLMESH_API_KEYS: TEST_KEY,
    ...scope.env,
    MLMESH_REDIS_PREFIX: testRedisPrefix(),
    LOG_LEVEL: "warn",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: serviceName,
    ...otel,
  });
  const mesh = await startMesh(config, { areas: [] });
  const traces = {} as Record<Parent, string>;
  const callers: Partial<Record<Parent, string>> = {};
  try {
    for (const parent of parents) {
      const traceId = randomBytes(16).toString("hex");
      const headers: Record<string, string> = { "content-type": "application/json" };
      callers[parent] = randomBytes(8).toString("hex");
      if (parent !== "none") headers.traceparent = `00-${traceId}-${callers[parent]}-${parent === "sampled" ? "01" : "00"}`;
      const res = await fetch(`http://127.0.0.1:${mesh.ports.connect}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers,
        body: "{}",
      });
      expect(res.status).toBe(200);
      // The call's own trace: the caller's, or a new one the mesh started.
      traces[parent] = res.headers.get("traceparent")!.split("-")[1];
      if (parent !== "none") expect(traces[parent]).toBe(traceId);
    }
  } finally {
    await mesh.shutdown();
  }
  return { traces, callers };
}

const exported = (traceId: string) => receiver.trace(traceId).length > 0;

describe("OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG", () => {
  it("always_off exports nothing, whatever the caller sampled; always_on exports every call, even an unsampled caller's", async () => {
    const off = await callsUnder("sampler-always-off", { OTEL_TRACES_SAMPLER: "always_off" }, ["sampled", "none"]);
    expect(exported(off.sampled)).toBe(false);
    expect(exported(off.none)).toBe(false);
    expect(receiver.from("sampler-always-off")).toEqual([]);
    const on = await callsUnder("sampler-always-on", { OTEL_TRACES_SAMPLER: "always_on" }, ["unsampled", "none"]);
    expect(exported(on.unsampled)).toBe(true);
    expect(exported(on.none)).toBe(true);
  });

  it("parentbased_traceidratio at 0 still exports a call whose caller sampled it, and only that one", async () => {
    const { traces: t, callers } = await callsWithCallers(
      "sampler-parent-ratio-0",
      { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
      ["sampled", "unsampled", "none"],
    );
    expect(exported(t.sampled)).toBe(true);
    expect(exported(t.unsampled)).toBe(false);
    expect(exported(t.none)).toBe(false);
    const [span] = receiver.trace(t.sampled);
    expect(span).toMatchObject({ name: "grpc.health.v1.Health/Check", resource: { "service.name": "sampler-parent-ratio-0" } });
    // The Connect call continued the caller's span: its parent is the one the traceparent named.
    expect(span.attributes["mlmesh.transport"]).toBe("connect");
    expect(span.parentSpanId).toBe(callers.sampled);
  });

  it("traceidratio decides by the trace id alone: at 0 not even a sampled caller's call, at 1 every call", async () => {
    const none = await callsUnder("sampler-ratio-0", { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }, ["sampled"]);
    expect(exported(none.sampled)).toBe(false);
    const all = await callsUnder("sampler-ratio-1", { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1" }, ["unsampled"]);
    expect(exported(all.unsampled)).toBe(true);
  });

  it("unset, with an endpoint, is parentbased_always_on: new traces are sampled, a caller's 'not sampled' is kept", async () => {
    const t = await callsUnder("sampler-default", {}, ["none", "unsampled", "sampled"]);
    expect(exported(t.none)).toBe(true);
    expect(exported(t.sampled)).toBe(true);
    expect(exported(t.unsampled)).toBe(false);
    expect(receiver.refused).toEqual([]);
  });
});
