import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envoySettingsProblems } from "../../scripts/fleet/envoy-settings.js";
import { haproxyConfig } from "../../scripts/fleet/haproxy.js";
import { PROXY_SETTINGS } from "../../scripts/fleet/proxy-settings.js";

const envoy = readFileSync("deploy/envoy/envoy.yaml", "utf8");
const replicas = [1, 2, 3].map((i) => ({
  name: `mesh-${i}`,
  host: "127.0.0.1",
  grpc: 40_000 + i,
  connect: 41_000 + i,
  gateway: 42_000 + i,
}));
const listen = { host: "127.0.0.1", grpc: 43_001, connect: 43_002, rest: 43_003, stats: 43_004 };

describe("one source for the proxy settings: Envoy's config and the fleet's HAProxy", () => {
  it("deploy/envoy/envoy.yaml carries the shared timeouts, retries and health check", () => {
    expect(envoySettingsProblems(envoy, PROXY_SETTINGS)).toEqual([]);
  });

  it("names each place Envoy's config departs from them", () => {
    const changed = envoy
      .replace("connect_timeout: 1s", "connect_timeout: 3s")
      .replace("interval: 5s", "interval: 10s")
      .replace("num_retries: 2", "num_retries: 5")
      .replace("timeout: 60s", "timeout: 15s");
    expect(envoySettingsProblems(changed, PROXY_SETTINGS)).toEqual([
      "cluster mlmesh_grpc: connect_timeout is 3s, want 1s",
      "cluster mlmesh_grpc: health check interval is 10s, want 5s",
      "listener mlmesh_rest: route timeout is 15s, want 60s",
      "listener mlmesh_rest: retry_policy.num_retries is 5, want 2",
    ]);
    expect(envoySettingsProblems(envoy, { ...PROXY_SETTINGS, streamIdleTimeoutMs: 100_000 })).toEqual([
      "listener mlmesh_rest: stream_idle_timeout is 300s, want 100s",
    ]);
  });

  it("generates an HAProxy config that haproxy -c accepts, with the same values", () => {
    const text = haproxyConfig(PROXY_SETTINGS, listen, replicas);
    const dir = mkdtempSync(join(tmpdir(), "mlmesh-haproxy-"));
    try {
      writeFileSync(join(dir, "haproxy.cfg"), text);
      expect(execFileSync("haproxy", ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" })).toMatch(/valid/);
      // A broken line is refused: the check is not a formality.
      writeFileSync(join(dir, "bad.cfg"), text.replace("retry-on conn-failure", "retry-on conn-failures"));
      expect(() => execFileSync("haproxy", ["-c", "-f", join(dir, "bad.cfg")], { stdio: "pipe" })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const h = PROXY_SETTINGS.healthCheck;
    expect(text).toContain(`timeout connect ${PROXY_SETTINGS.connectTimeoutMs}ms`);
    expect(text).toContain(`timeout server ${PROXY_SETTINGS.routeTimeoutMs}ms`);
    expect(text).toContain(`timeout client ${PROXY_SETTINGS.streamIdleTimeoutMs}ms`);
    expect(text).toContain(`timeout check ${h.timeoutMs}ms`);
    expect(text).toContain(`inter ${h.intervalMs}ms`);
    expect(text).toContain(`fall ${h.unhealthyThreshold} rise ${h.healthyThreshold}`);
    expect(text).toContain(`retries ${PROXY_SETTINGS.retries.count}`);
    for (const r of replicas) {
      expect(text).toContain(`server ${r.name} 127.0.0.1:${r.grpc} proto h2 check port ${r.connect}`);
      expect(text).toContain(`server ${r.name} 127.0.0.1:${r.gateway} track mesh_grpc/${r.name}`);
    }
  });
});
