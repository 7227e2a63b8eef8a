import { context, propagation, trace, type Context, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";

import type { Metadata, ResponseMetadata } from "./context.js";

const propagator = new W3CTraceContextPropagator();

/**
 * Installs the tracer provider. Without an exporter, spans still get real ids
 * and the W3C trace context still flows in and out of metadata; only sampled
 * traces (a sampled parent, or the configured root ratio) are recorded.
 */
export function installTracing(options: { exporter?: SpanExporter; rootSampleRatio?: number } = {}): Tracer {
  const exporter = options.exporter ?? (process.env.OTEL_TRACES_EXPORTER === "console" ? new ConsoleSpanExporter() : undefined);
  const root = options.exporter ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(options.rootSampleRatio ?? 0);
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root }),
    spanProcessors: exporter ? [new SimpleSpanProcessor(exporter)] : [],
  });
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  propagation.disable();
  propagation.setGlobalPropagator(propagator);
  return trace.getTracer("ml-mesh");
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
  return propagator.extract(context.active(), headers, headersGetter);
}

/** Writes the current span's trace context into outgoing metadata. */
export function injectTraceContext(ctx: Context, headers: ResponseMetadata): void {
  propagator.inject(ctx, headers, headersSetter);
}
