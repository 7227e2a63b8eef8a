import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mesh } from "../../services/runtime/mesh.js";
import { contractRoutes } from "../support/contract-routes.js";
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
    // Each path with its operations, against the contract's http rules: none missing, none left over.
    const operations = (paths: Record<string, Record<string, unknown>>) =>
      Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((verb) => `${verb.toUpperCase()} ${path}`));
    const expected = contractRoutes().map((r) => `${r.verb} ${r.template}`);
    expect(expected.length).toBeGreaterThan(0);
    expect(operations(doc.paths).sort()).toEqual(expected.sort());
    expect(Object.keys(doc.paths).sort()).toEqual([...new Set(contractRoutes().map((r) => r.template))].sort());
  });
});
