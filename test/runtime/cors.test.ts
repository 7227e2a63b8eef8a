import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/runtime/config.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { originMatcher } from "../../services/runtime/transports/cors.js";
import { httpRequest } from "../hostile/mesh-process.js";
import { startTestMesh } from "../support/mesh.js";

describe("CORS on the Connect port (MLMESH_CORS_ORIGINS)", () => {
  it("matches exact origins, a subdomain wildcard and a port wildcard, and nothing else", () => {
    const allowed = originMatcher(["https://app.example.com", "https://*.example.org", "http://localhost:*"]);
    expect(allowed("https://app.example.com")).toBe(true);
    expect(allowed("https://a.b.example.org")).toBe(true);
    expect(allowed("http://localhost:5173")).toBe(true);
    expect(allowed("http://app.example.com")).toBe(false);
    expect(allowed("https://example.org")).toBe(false);
    expect(allowed("https://evil.com/.example.org")).toBe(false);
    expect(allowed("https://app.example.com.evil.com")).toBe(false);
    expect(allowed("http://localhost.evil.com:80")).toBe(false);
    expect(originMatcher(["*"])("https://anywhere.test")).toBe(true);
    expect(originMatcher([])("http://localhost:1")).toBe(false);
  });

  it("refuses to start on an entry that is not an origin, naming it", () => {
    const load = (origins: string) => () => loadConfig({ MLMESH_AUTH_DISABLED: "true", MLMESH_CORS_ORIGINS: origins });
    expect(load("https://a.example.com, http://localhost:*")().corsOrigins).toEqual(["https://a.example.com", "http://localhost:*"]);
    expect(loadConfig({ MLMESH_AUTH_DISABLED: "true" }).corsOrigins).toEqual([]);
    for (const bad of ["ftp://x.example.com", "https://a.*.example.com", "https://example.com/path", "example.com"]) {
      expect(load(bad)).toThrow(ConfigError);
      expect(load(bad)).toThrow(JSON.stringify(bad));
    }
  });

  describe("on the port", () => {
    let mesh: Mesh;
    beforeAll(async () => {
      ({ mesh } = await startTestMesh([], { MLMESH_CORS_ORIGINS: "https://app.example.com" }));
    });
    afterAll(async () => mesh?.shutdown());

    const preflight = (origin: string) =>
      httpRequest(mesh.ports.connect, "OPTIONS", "/grpc.health.v1.Health/Check", undefined, {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,connect-timeout-ms,authorization,x-api-key,traceparent",
      });

    it("answers an allowed origin's preflight with Connect's, gRPC-Web's and the API key's headers", async () => {
      const res = await preflight("https://app.example.com");
      expect(res.status).toBe(204);
      expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(String(res.headers["access-control-allow-methods"]).split(", ")).toContain("POST");
      const headers = String(res.headers["access-control-allow-headers"]).toLowerCase().split(", ");
      for (const h of [
        "content-type",
        "connect-protocol-version",
        "connect-timeout-ms",
        "x-grpc-web",
        "authorization",
        "x-api-key",
        "traceparent",
      ]) {
        expect(headers).toContain(h);
      }
      const call = await httpRequest(mesh.ports.connect, "POST", "/grpc.health.v1.Health/Check", "{}", {
        origin: "https://app.example.com",
        "content-type": "application/json",
      });
      expect(call.status).toBe(200);
      expect(call.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(String(call.headers["access-control-expose-headers"]).toLowerCase()).toContain("grpc-status");
    });

    it("refuses another origin's preflight and gives its calls no CORS headers", async () => {
      const res = await preflight("https://evil.example.net");
      expect(res.status).toBe(403);
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
      const call = await httpRequest(mesh.ports.connect, "POST", "/grpc.health.v1.Health/Check", "{}", {
        origin: "https://evil.example.net",
        "content-type": "application/json",
      });
      expect(call.headers["access-control-allow-origin"]).toBeUndefined();
    });
  });
});
