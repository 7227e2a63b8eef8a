import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AreaFactory } from "../../services/runtime/area.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startPrivatePostgres, type PrivatePostgres } from "../fixtures/private-postgres.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

// The admin port as Kubernetes and Prometheus use it: /healthz (alive), /readyz
// (storage reachable and every area ready; 503 with the reasons otherwise) and
// /metrics. The PostgreSQL is this file's own: it is stopped.

let pg: PrivatePostgres;
let mesh: Mesh;
let admin: string;
/** What the area reports to readiness; empty when ready. */
let areaProblems: string[] = [];

const watchedArea: AreaFactory = async (deps) => ({ ...(await slowForecastArea(deps)), notReady: async () => areaProblems });

beforeAll(async () => {
  pg = await startPrivatePostgres();
  ({ mesh } = await startTestMesh([watchedArea], { DATABASE_URL: pg.url }));
  admin = `http://127.0.0.1:${mesh.ports.admin}`;
}, 60_000);

afterAll(async () => {
  await mesh?.shutdown();
  await pg?.close();
});

async function readyz(): Promise<{ status: number; body: { ready: boolean; problems: string[] } }> {
  const res = await fetch(`${admin}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; problems: string[] } };
}

describe("the admin port", () => {
  it("/healthz: alive", async () => {
    const res = await fetch(`${admin}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("/metrics: Prometheus' text format, counting the calls served", async () => {
    const call = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/forecast/demand`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ product_id: "p", horizon_days: 1 }),
    });
    expect(call.status).toBe(200);
    const res = await fetch(`${admin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain("# TYPE mlmesh_rpc_requests_total counter");
    const line = text.split("\n").find((l) => l.startsWith("mlmesh_rpc_requests_total{") && l.includes("ForecastDemand"));
    expect(line, "a series for the call made").toBeDefined();
    expect(Number(line!.split(" ").at(-1))).toBeGreaterThanOrEqual(1);
  });

  it("/readyz: ready, then 503 naming each reason, then ready again", async () => {
    expect(await readyz()).toEqual({ status: 200, body: { ready: true, problems: [] } });

    // An area not ready yet (a model still loading).
    areaProblems = ["match model warming"];
    expect(await readyz()).toEqual({ status: 503, body: { ready: false, problems: ["match model warming"] } });
    areaProblems = [];

    // The database gone: not ready, though still alive.
    await pg.stop();
    try {
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body.ready).toBe(false);
      expect(down.body.problems).toContainEqual(expect.stringContaining("database unreachable"));
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    } finally {
      await pg.start();
    }
    await expect.poll(async () => (await readyz()).status, { timeout: 30_000, interval: 100 }).toBe(200);
  }, 60_000);
});
