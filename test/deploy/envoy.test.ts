import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEnvoyConfig, descriptorSetIsCurrent, envoyPolicyProblems, envoyRegistry } from "../../scripts/check-envoy.js";

const config = readFileSync("deploy/envoy/envoy.yaml", "utf8");
// A fresh descriptor set in a scratch directory: the test must not rewrite the lead's build/mlmesh.binpb.
const scratch = mkdtempSync(join(tmpdir(), "mlmesh-envoy-"));
const fresh = join(scratch, "mlmesh.binpb");
let descriptors: Uint8Array;
let registry: ReturnType<typeof envoyRegistry>;

describe("deploy/envoy/envoy.yaml, checked against Envoy's own API protos", () => {
  beforeAll(() => {
    execFileSync("node_modules/.bin/buf", ["build", "-o", fresh]);
    descriptors = readFileSync(fresh);
    registry = envoyRegistry();
  }, 60_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is a valid bootstrap whose transcoder serves every service of the contract", () => {
    expect(checkEnvoyConfig(config, descriptors, registry)).toEqual([]);
  });

  it("rejects a misspelled field, even inside a typed_config", () => {
    expect(checkEnvoyConfig(config.replace("stat_prefix: mlmesh_rest", "stat_prefx: mlmesh_rest"), descriptors, registry).join()).toMatch(
      /stat_prefx/,
    );
    expect(
      checkEnvoyConfig(config.replace("convert_grpc_status: true", "convert_grpc_statuses: true"), descriptors, registry).join(),
    ).toMatch(/convert_grpc_statuses/);
    expect(checkEnvoyConfig(config.replace("max_tokens: 20", "max_token: 20"), descriptors, registry).join()).toMatch(/max_token/);
  });

  it("rejects a bad enum value and an unknown filter type", () => {
    expect(checkEnvoyConfig(config.replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBINS"), descriptors, registry).join()).toMatch(
      /ROUND_ROBINS/,
    );
    expect(checkEnvoyConfig(config.replace("denominator: HUNDRED", "denominator: THOUSAND_ISH"), descriptors, registry).join()).toMatch(
      /THOUSAND_ISH/,
    );
    expect(checkEnvoyConfig(config.replace("grpc_web.v3.GrpcWeb", "grpc_web.v3.GrpcWebb"), descriptors, registry).join()).toMatch(
      /GrpcWebb/,
    );
  });

  it("rejects a transcoder that names a service the descriptor set does not have", () => {
    const problems = checkEnvoyConfig(
      config.replace("mlmesh.forecast.v1.ForecastService", "mlmesh.forecast.v2.ForecastService"),
      descriptors,
      registry,
    );
    expect(problems).toContain("transcoder names mlmesh.forecast.v2.ForecastService, which is not in the descriptor set");
  });

  it("tells a current descriptor set from a stale one", () => {
    expect(descriptorSetIsCurrent(fresh)).toBe(true);
    const stale = join(scratch, "stale.binpb");
    writeFileSync(stale, descriptors.subarray(0, descriptors.length - 1));
    expect(descriptorSetIsCurrent(stale)).toBe(false);
  });

  it("keeps the admin interface on loopback, limits each client address, and reaches every mesh pod", () => {
    expect(envoyPolicyProblems(config, { tls: false })).toEqual([]);
    expect(
      envoyPolicyProblems(config.replace("address: 127.0.0.1, port_value: 9901", "address: 0.0.0.0, port_value: 9901"), { tls: false }),
    ).toEqual(["admin listens on 0.0.0.0, not on loopback"]);
    const perConnection = config.replace("always_consume_default_token_bucket: false", "local_rate_limit_per_downstream_connection: true");
    expect(checkEnvoyConfig(perConnection, descriptors, registry)).toEqual([]);
    expect(envoyPolicyProblems(perConnection, { tls: false })).toContain(
      "listener mlmesh_rest: the rate limit is per connection, not per client",
    );
    expect(envoyPolicyProblems(config.replace("- key: remote_address", "- key: path"), { tls: false })).toEqual([
      "listener mlmesh_rest: no rate-limit descriptor keyed on remote_address alone",
    ]);
    expect(envoyPolicyProblems(config.replace("- remote_address: {}", "- source_cluster: {}"), { tls: false })).toEqual([
      "listener mlmesh_rest: 1 route(s) without a remote_address rate_limits action",
    ]);
    expect(envoyPolicyProblems(config.replace("type: STRICT_DNS", "type: LOGICAL_DNS"), { tls: false })).toEqual([
      "cluster mlmesh_grpc: LOGICAL_DNS reaches one address at a time, not every mesh pod",
    ]);
  });

  it("requires TLS on every listener where asked: the local stack is plaintext", () => {
    expect(envoyPolicyProblems(config, { tls: true })).toEqual([
      "listener mlmesh_rest: no DownstreamTlsContext transport socket (plaintext)",
    ]);
  });
});
