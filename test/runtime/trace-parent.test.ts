import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { extractTraceContext, traceContextOf } from "../../services/runtime/tracing.js";

// A job's span continues its submitting call's trace from the traceparent stored with the job
// (services/jobs/worker.ts); traceContextOf reads it from the string as the call's headers would be read.
const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = "00f067aa0ba902b7";

describe("traceContextOf", () => {
  it("names the span a traceparent names, sampled flag included, as extracting it from headers does", () => {
    for (const flags of ["01", "00"]) {
      const traceParent = `00-${traceId}-${spanId}-${flags}`;
      const ours = trace.getSpanContext(traceContextOf(traceParent));
      expect(ours).toEqual({ traceId, spanId, traceFlags: Number(flags), isRemote: true });
      expect(ours).toEqual(trace.getSpanContext(extractTraceContext(new Headers({ traceparent: traceParent }))));
    }
  });

  it("is the root context for an empty or malformed traceparent", () => {
    for (const traceParent of ["", "garbage", `00-${"0".repeat(32)}-${spanId}-01`, `00-${traceId}-${spanId}`]) {
      expect(trace.getSpanContext(traceContextOf(traceParent))).toBeUndefined();
    }
  });
});
