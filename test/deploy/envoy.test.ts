import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkEnvoyConfig, envoyRegistry } from "../../scripts/check-envoy.js";

const config = readFileSync("deploy/envoy/envoy.yaml", "utf8");
let descriptors: Uint8Array;
let registry: ReturnType<typeof envoyRegistry>;

describe("deploy/envoy/envoy.yaml, checked against Envoy's own API protos", () => {
  beforeAll(() => {
    execFileSync("node_modules/.bin/buf", ["build", "-o", "build/mlmesh.binpb"]);
    descriptors = readFileSync("build/mlmesh.binpb");
    registry = envoyRegistry();
  }, 60_000);

  it("is a valid bootstrap whose transcoder serves every service of the contract", () => {
    expect(checkEnvoyConfig(config, descriptors, registry)).toEqual([]);
  });

  it("rejects a misspelled field, even inside a typed_config", () => {
    expect(checkEnvoyConfig(config.replace("stat_prefix: mlmesh_rest", "stat_prefx: mlmesh_rest"), descriptors, registry).join()).toMatch(/stat_prefx/);
    expect(checkEnvoyConfig(config.replace("convert_grpc_status: true", "convert_grpc_statuses: true"), descriptors, registry).join()).toMatch(/convert_grpc_statuses/);
  });

  it("rejects a bad enum value and an unknown filter type", () => {
    expect(checkEnvoyConfig(config.replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBINS"), descriptors, registry).length).toBeGreaterThan(0);
    expect(checkEnvoyConfig(config.replace("grpc_web.v3.GrpcWeb", "grpc_web.v3.GrpcWebb"), descriptors, registry).length).toBeGreaterThan(0);
  });

  it("rejects a transcoder that names a service the descriptor set does not have", () => {
    const problems = checkEnvoyConfig(config.replace("mlmesh.forecast.v1.ForecastService", "mlmesh.forecast.v2.ForecastService"), descriptors, registry);
    expect(problems).toContain("transcoder names mlmesh.forecast.v2.ForecastService, which is not in the descriptor set");
  });
});
