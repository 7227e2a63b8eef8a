import { context, isSpanContextValid, propagation, trace } from "@opentelemetry/api";
import type { ClientMiddleware } from "nice-grpc";
import { Metadata } from "nice-grpc";

/**
 * Continues the caller's trace on the server: the W3C `traceparent` (and
 * `tracestate`) of the span active when the call is made. A propagator the
 * application registered with OpenTelemetry writes them (and whatever else it
 * propagates); without one, they are written from the active span itself.
 */
export const traceMiddleware: ClientMiddleware = async function* propagateTrace(call, options) {
  const active = context.active();
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  const span = trace.getSpanContext(active);
  if (carrier.traceparent === undefined && span && isSpanContextValid(span)) {
    carrier.traceparent = `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
    const state = span.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  if (Object.keys(carrier).length === 0) return yield* call.next(call.request, options);
  const metadata = Metadata(options.metadata);
  for (const [key, value] of Object.entries(carrier)) if (!metadata.has(key)) metadata.set(key, value);
  return yield* call.next(call.request, { ...options, metadata });
};
