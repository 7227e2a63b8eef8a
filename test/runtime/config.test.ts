import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/runtime/config.js";

describe("configuration", () => {
  it("uses the documented defaults", () => {
    const c = loadConfig({ MLMESH_API_KEYS: "k".repeat(20) });
    expect([c.grpcPort, c.connectPort, c.adminPort, c.gatewayPort]).toEqual([50051, 8080, 9464, 8000]);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(c.redisPrefix).toBe("mlmesh");
  });

  it("keeps MLMESH_REDIS_PREFIX to letters, digits, - and _", () => {
    const keys = { MLMESH_API_KEYS: "k".repeat(20) };
    expect(loadConfig({ ...keys, MLMESH_REDIS_PREFIX: "team-a_2" }).redisPrefix).toBe("team-a_2");
    expect(() => loadConfig({ ...keys, MLMESH_REDIS_PREFIX: "a:b" })).toThrow(/MLMESH_REDIS_PREFIX="a:b": letters, digits, - and _ only/);
  });

  it("names every bad value at once", () => {
    try {
      loadConfig({ GRPC_PORT: "70000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", MLMESH_API_KEYS: "short" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join("\n");
      expect(problems).toContain("GRPC_PORT");
      expect(problems).toContain("DATABASE_URL");
      expect(problems).toContain("LOG_LEVEL");
      expect(problems).toContain("too short");
    }
  });

  it("refuses to start without keys unless auth is explicitly disabled", () => {
    expect(() => loadConfig({})).toThrow(/MLMESH_API_KEYS is empty/);
    expect(loadConfig({ MLMESH_AUTH_DISABLED: "true" }).authDisabled).toBe(true);
  });
});
