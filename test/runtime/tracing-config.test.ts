import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/runtime/config.js";

const keys = { MLMESH_API_KEYS: "k".repeat(20) };
const tracing = (env: Record<string, string>) => loadConfig({ ...keys, ...env }).tracing;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...keys, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

describe("OTEL_* settings", () => {
  it("export nothing and sample by the caller when no endpoint is set", () => {
    expect(tracing({})).toMatchObject({
      otlpTracesUrl: undefined,
      console: false,
      sampler: undefined,
      samplerRatio: 1,
      serviceName: undefined,
    });
  });

  it("find the traces URL as the specification says", () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).otlpTracesUrl).toBe("http://collector:4318/v1/traces");
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example/otlp/" }).otlpTracesUrl).toBe(
      "https://otel.example/otlp/v1/traces",
    );
    // The per-signal variable is taken as given, and wins.
    expect(
      tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom" })
        .otlpTracesUrl,
    ).toBe("http://traces:9999/custom");
    expect(tracing({ OTEL_TRACES_EXPORTER: "otlp" }).otlpTracesUrl).toBe("http://localhost:4318/v1/traces");
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" }).otlpTracesUrl).toBeUndefined();
    expect(tracing({ OTEL_TRACES_EXPORTER: "console" })).toMatchObject({ otlpTracesUrl: undefined, console: true });
  });

  it("read the resource: OTEL_SERVICE_NAME over service.name in OTEL_RESOURCE_ATTRIBUTES, values percent-decoded", () => {
    expect(tracing({ OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs, team = ml%2Cplatform ,region=eu%20west" })).toMatchObject({
      serviceName: "from-attrs",
      resourceAttributes: { "service.name": "from-attrs", team: "ml,platform", region: "eu west" },
    });
    expect(tracing({ OTEL_SERVICE_NAME: "named", OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs" }).serviceName).toBe("named");
  });

  it("read the sampler and its ratio", () => {
    expect(tracing({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })).toMatchObject({
      sampler: "parentbased_traceidratio",
      samplerRatio: 0.25,
    });
    expect(tracing({ OTEL_TRACES_SAMPLER: "ALWAYS_OFF" }).sampler).toBe("always_off");
  });

  it("refuse to start on a bad value, naming each variable at once", () => {
    const found = problems({
      OTEL_TRACES_SAMPLER: "sometimes",
      OTEL_TRACES_SAMPLER_ARG: "1.5",
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_TRACES_EXPORTER: "zipkin",
      OTEL_RESOURCE_ATTRIBUTES: "team=ml,oops",
      OTEL_BSP_SCHEDULE_DELAY: "soon",
    }).join("\n");
    expect(found).toContain('OTEL_TRACES_SAMPLER="sometimes": must be one of always_on, always_off, traceidratio');
    expect(found).toContain('OTEL_TRACES_SAMPLER_ARG="1.5": must be a number from 0 to 1');
    expect(found).toContain('OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": must be an http:// or https:// URL');
    expect(found).toContain('OTEL_EXPORTER_OTLP_PROTOCOL="grpc": only http/protobuf is built');
    expect(found).toContain("OTEL_TRACES_EXPORTER=\"zipkin\": 'zipkin' is not an exporter here");
    expect(found).toContain('OTEL_RESOURCE_ATTRIBUTES: "oops" is not key=value');
    expect(found).toContain("OTEL_BSP_SCHEDULE_DELAY");
    expect(problems({ OTEL_TRACES_SAMPLER_ARG: "half" }).join()).toContain("OTEL_TRACES_SAMPLER_ARG");
    expect(problems({ OTEL_RESOURCE_ATTRIBUTES: "team=%zz" }).join()).toContain("OTEL_RESOURCE_ATTRIBUTES");
    expect(problems({ OTEL_BSP_MAX_QUEUE_SIZE: "10", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20" }).join()).toContain(
      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=20: must be at most OTEL_BSP_MAX_QUEUE_SIZE (10)",
    );
  });
});
