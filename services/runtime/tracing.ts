import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace, type Context, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";

import type { Metadata, ResponseMetadata } from "./context.js";
import { log } from "./log.js";
import type { SamplerName, TracingConfig } from "./tracing-config.js";

const propagator = new W3CTraceContextPropagator();

// At most this long for the last spans to reach the collector at shutdown: an unreachable
// collector must not hold up a drain that the orchestrator is timing.
const FLUSH_LIMIT_MS = 5000;

/** The process's tracing: its tracer, and the flush a drain ends with. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Exports the spans still batched (bounded by FLUSH_LIMIT_MS) and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one: mlmesh, mlmesh-worker. */
  serviceName: string;
  /** Records every span (tests): it counts as exporting, so new traces are sampled unless a sampler is set. */
  exporter?: SpanExporter;
}

/**
 * Installs the tracer provider, the W3C propagator and the context manager.
 * Spans always get real ids and the W3C trace context always flows in and
 * out of metadata and jobs, so log lines carry the caller's trace id whether
 * or not this process exports. Spans are recorded and exported only when an
 * exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER)
 * and the sampler samples them.
 */
export function installTracing(config: TracingConfig, options: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [];
  if (config.otlpTracesUrl) {
    const exporter = new OTLPTraceExporter({ url: config.otlpTracesUrl });
    processors.push(new BatchSpanProcessor(exporter, config.batch));
  }
  if (config.console) processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  if (options.exporter) processors.push(new SimpleSpanProcessor(options.exporter));
  const provider = new BasicTracerProvider({
    sampler: samplerFor(config, processors.length > 0),
    resource: defaultResource().merge(
      resourceFromAttributes({ ...config.resourceAttributes, "service.name": config.serviceName ?? options.serviceName }),
    ),
    spanProcessors: processors,
  });
  installContextManager();
  reportExportFailures();
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  propagation.disable();
  propagation.setGlobalPropagator(propagator);
  let stopping: Promise<void> | undefined;
  return {
    tracer: provider.getTracer("ml-mesh"),
    shutdown: () =>
      (stopping ??= (async () => {
        if (processors.length === 0) return;
        const flushed = provider.shutdown().then(
          () => true,
          (err: unknown) => {
            log.warn("tracing: the last spans could not be exported", { error: String(err) });
            return true;
          },
        );
        const limit = new Promise<false>((resolve) => setTimeout(() => resolve(false), FLUSH_LIMIT_MS).unref());
        if (!(await Promise.race([flushed, limit]))) {
          log.warn("tracing: the collector did not take the last spans in time; they are dropped", { limitMs: FLUSH_LIMIT_MS });
        }
      })()),
  };
}

/**
 * The sampler OTEL_TRACES_SAMPLER names. Unset, it is parent-based (a caller's
 * sampled flag decides), and a new trace is sampled only when spans go
 * somewhere: parentbased_always_on with an exporter, the specification's
 * default; parentbased_always_off without one, so a process that exports
 * nothing does not record spans for nothing.
 */
function samplerFor(config: TracingConfig, exporting: boolean): Sampler {
  const name: SamplerName = config.sampler ?? (exporting ? "parentbased_always_on" : "parentbased_always_off");
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() });
  }
}

let contextManager: AsyncLocalStorageContextManager | undefined;

/**
 * The active context follows async work (AsyncLocalStorage), so code a call
 * runs, however deep, sees the call's span: log lines carry its ids and
 * child spans find their parent. Installed once per process.
 */
function installContextManager(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

const DIAG_REPEAT_MS = 60_000;

/**
 * The SDK reports a failed export (collector unreachable, refused) through its
 * diagnostic logger, which is silent unless set: warnings and errors go to
 * our log, each message at most once a minute, and off any call's context
 * (an export's timer may have been started inside one).
 */
function reportExportFailures(): void {
  const last = new Map<string, number>();
  const forward =
    (level: "warn" | "error") =>
    (message: string, ...args: unknown[]) => {
      const now = Date.now();
      if (now - (last.get(message) ?? -Infinity) < DIAG_REPEAT_MS) return;
      last.set(message, now);
      const detail = args.map(describe).join(" ");
      context.with(ROOT_CONTEXT, () => log[level](`opentelemetry: ${message}`, detail ? { detail } : undefined));
    };
  const quiet = () => undefined;
  diag.disable();
  diag.setLogger({ error: forward("error"), warn: forward("warn"), info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const headersGetter = {
  get: (carrier: Metadata, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Metadata) => [...carrier.keys()],
};
const headersSetter = {
  set: (carrier: ResponseMetadata, key: string, value: string) => void carrier.set(key, value),
};

/** The trace context a caller sent in traceparent/tracestate metadata. */
export function extractTraceContext(headers: Metadata): Context {
  return propagator.extract(ROOT_CONTEXT, headers, headersGetter);
}

/**
 * The context a W3C traceparent (a job's submitting call, as stored with the job) names; the root
 * context for an empty or malformed one. Read straight from the string: building a fetch Headers to
 * carry one value cost more than the rest of a job's tracing.
 */
export function traceContextOf(traceParent: string): Context {
  return traceParent ? propagator.extract(ROOT_CONTEXT, traceParent, traceParentGetter) : ROOT_CONTEXT;
}

const traceParentGetter = {
  get: (carrier: string, key: string) => (key === "traceparent" ? carrier : undefined),
  keys: () => ["traceparent"],
};

/** Writes the current span's trace context into outgoing metadata. */
export function injectTraceContext(ctx: Context, headers: ResponseMetadata): void {
  propagator.inject(ctx, headers, headersSetter);
}
