import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEnvoyConfig, descriptorSetIsCurrent, envoyRegistry } from "../../scripts/check-envoy.js";

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
});
