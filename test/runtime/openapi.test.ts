import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contracts } from "../../services/contracts.js";
import { httpRoutes } from "../../services/runtime/http-rules.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh } from "../support/mesh.js";

// Needs build/openapi/mlmesh.swagger.json, which `make test` writes (make openapi) before the suites run.
describe("OpenAPI document on the admin port", () => {
  let mesh: Mesh;
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([]));
  });
  afterAll(async () => {
    await mesh?.shutdown();
  });

  it("describes every REST binding of the contract", async () => {
    const res = await fetch(`http://127.0.0.1:${mesh.ports.admin}/openapi.json`);
    expect(res.status, "run `make openapi` first").toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = httpRoutes(contracts.flatMap((c) => c.methods));
    expect(routes.length).toBeGreaterThanOrEqual(16);
    for (const r of routes) {
      expect(doc.paths[r.template], r.template).toBeDefined();
      expect(doc.paths[r.template][r.verb.toLowerCase()], `${r.verb} ${r.template}`).toBeDefined();
    }
  });
});
