// The OpenTelemetry settings, read from the standard OTEL_* variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
// and checked at start like every other setting: a bad value refuses to start,
// naming the variable. The specification would have an SDK warn and fall back
// instead; a mistyped sampler or endpoint that falls back silently either floods
// the collector or loses every trace, and nobody reads a warning until then.
import { readInt, type IntSetting } from "./config.js";

/** The samplers OTEL_TRACES_SAMPLER may name. */
export const SAMPLER_NAMES = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** Where OTEL_TRACES_EXPORTER=otlp sends spans when no endpoint is set (the specification's default). */
export const DEFAULT_OTLP_TRACES_URL = "http://localhost:4318/v1/traces";

export interface TracingConfig {
  /** The OTLP/HTTP (protobuf) traces URL spans are exported to; undefined: none. */
  otlpTracesUrl: string | undefined;
  /** OTEL_TRACES_EXPORTER lists console: spans are also printed on stdout. */
  console: boolean;
  /** OTEL_SERVICE_NAME, else the service.name of OTEL_RESOURCE_ATTRIBUTES; undefined: the process names itself (mlmesh, mlmesh-worker). */
  serviceName: string | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  resourceAttributes: Record<string, string>;
  /** OTEL_TRACES_SAMPLER; undefined: parent-based, sampling new traces only when spans are exported (tracing.ts). */
  sampler: SamplerName | undefined;
  /** OTEL_TRACES_SAMPLER_ARG, the ratio of the traceidratio samplers (1 when unset, as the specification says). */
  samplerRatio: number;
  /** OTEL_BSP_*: the batch span processor's settings. */
  batch: { scheduledDelayMillis: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number };
}

/** The batch span processor's settings, with the specification's defaults. */
export const BATCH_SETTINGS = {
  scheduledDelayMillis: { name: "OTEL_BSP_SCHEDULE_DELAY", fallback: 5000, min: 0, max: 3_600_000 },
  maxQueueSize: { name: "OTEL_BSP_MAX_QUEUE_SIZE", fallback: 2048, min: 1, max: 1_000_000 },
  maxExportBatchSize: { name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", fallback: 512, min: 1, max: 1_000_000 },
  exportTimeoutMillis: { name: "OTEL_BSP_EXPORT_TIMEOUT", fallback: 30_000, min: 1, max: 3_600_000 },
} as const satisfies Record<string, IntSetting>;

/** Reads the OTEL_* settings; each problem (naming its variable) goes to `problems`. */
export function readTracingConfig(env: NodeJS.ProcessEnv, problems: string[]): TracingConfig {
  const resourceAttributes = readResourceAttributes(env, problems);
  const batch = {
    scheduledDelayMillis: readInt(env, BATCH_SETTINGS.scheduledDelayMillis, problems),
    maxQueueSize: readInt(env, BATCH_SETTINGS.maxQueueSize, problems),
    maxExportBatchSize: readInt(env, BATCH_SETTINGS.maxExportBatchSize, problems),
    exportTimeoutMillis: readInt(env, BATCH_SETTINGS.exportTimeoutMillis, problems),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    problems.push(
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${batch.maxExportBatchSize}: must be at most OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`,
    );
  }
  const { otlpTracesUrl, console } = readExporters(env, problems);
  return {
    otlpTracesUrl,
    console,
    serviceName: value(env, "OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"],
    resourceAttributes,
    sampler: readSampler(env, problems),
    samplerRatio: readRatio(env, problems),
    batch,
  };
}

/** A variable's value, trimmed; undefined when unset or blank (the specification treats empty as unset). */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/**
 * OTEL_TRACES_EXPORTER (otlp, console, none, or a comma-separated list) and the
 * endpoint. Unset, it is otlp when an endpoint is set and none otherwise, so a
 * process with no collector configured pays nothing for exporting.
 */
function readExporters(env: NodeJS.ProcessEnv, problems: string[]): { otlpTracesUrl: string | undefined; console: boolean } {
  const endpoint = readEndpoint(env, problems);
  const raw = value(env, "OTEL_TRACES_EXPORTER");
  const names = raw ? raw.split(",").map((n) => n.trim().toLowerCase()) : endpoint ? ["otlp"] : [];
  for (const n of names) {
    if (!["otlp", "console", "none"].includes(n)) {
      problems.push(`OTEL_TRACES_EXPORTER=${JSON.stringify(raw)}: '${n}' is not an exporter here (otlp, console or none)`);
    }
  }
  if (names.includes("none") && names.length > 1) {
    problems.push(`OTEL_TRACES_EXPORTER=${JSON.stringify(raw)}: none cannot be combined with other exporters`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const protocol = value(env, name);
    if (protocol && protocol !== "http/protobuf") {
      problems.push(`${name}=${JSON.stringify(protocol)}: only http/protobuf is built (OTLP over HTTP, the collector's port 4318)`);
    }
  }
  const otlp = names.includes("otlp");
  return { otlpTracesUrl: otlp ? (endpoint ?? DEFAULT_OTLP_TRACES_URL) : undefined, console: names.includes("console") };
}

/**
 * The traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
 * OTEL_EXPORTER_OTLP_ENDPOINT with v1/traces appended to its path.
 */
function readEndpoint(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const specific = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const check = (name: string, raw: string): URL | undefined => {
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") return url;
    } catch {
      // Reported below.
    }
    problems.push(`${name}=${JSON.stringify(raw)}: must be an http:// or https:// URL`);
    return undefined;
  };
  if (specific) return check("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", specific)?.toString();
  if (!base) return undefined;
  const url = check("OTEL_EXPORTER_OTLP_ENDPOINT", base);
  if (!url) return undefined;
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return url.toString();
}

function readSampler(env: NodeJS.ProcessEnv, problems: string[]): SamplerName | undefined {
  const raw = value(env, "OTEL_TRACES_SAMPLER");
  if (raw === undefined) return undefined;
  const name = raw.toLowerCase();
  if ((SAMPLER_NAMES as readonly string[]).includes(name)) return name as SamplerName;
  problems.push(`OTEL_TRACES_SAMPLER=${JSON.stringify(raw)}: must be one of ${SAMPLER_NAMES.join(", ")}`);
  return undefined;
}

/** OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1. Only the traceidratio samplers read it, but a bad one is refused whatever the sampler. */
function readRatio(env: NodeJS.ProcessEnv, problems: string[]): number {
  const raw = value(env, "OTEL_TRACES_SAMPLER_ARG");
  if (raw === undefined) return 1;
  const n = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 1)) {
    problems.push(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(raw)}: must be a number from 0 to 1 (the share of new traces sampled)`);
    return 1;
  }
  return n;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas, values
 * percent-encoded where they hold a comma, an equals sign or a space (W3C Baggage's form).
 */
function readResourceAttributes(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string> {
  const raw = value(env, "OTEL_RESOURCE_ATTRIBUTES");
  const attributes: Record<string, string> = {};
  if (raw === undefined) return attributes;
  for (const pair of raw.split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    const key = eq < 0 ? "" : pair.slice(0, eq).trim();
    let decoded: string | undefined;
    try {
      decoded = eq < 0 ? undefined : decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      decoded = undefined;
    }
    if (!key || decoded === undefined || !/^[\x21-\x7e]+$/.test(key)) {
      problems.push(
        `OTEL_RESOURCE_ATTRIBUTES: ${JSON.stringify(pair.trim())} is not key=value (comma-separated; percent-encode commas, equals signs and spaces in values)`,
      );
      continue;
    }
    attributes[key] = decoded;
  }
  return attributes;
}
