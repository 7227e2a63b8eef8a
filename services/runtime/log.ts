// Structured logs, one JSON object a line on stderr, so that compose, Kubernetes
// and a developer's terminal all get the same thing. A line written while a call
// or a job runs carries its trace_id and span_id, so a log search and a trace
// viewer lead to each other.
import { context, isSpanContextValid, trace } from "@opentelemetry/api";

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = order[(process.env.LOG_LEVEL as Level) in order ? (process.env.LOG_LEVEL as Level) : "info"];

export function setLogLevel(level: Level): void {
  threshold = order[level];
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  // Read only for a line that is written: the active span costs one lookup (AsyncLocalStorage), and
  // outside a call (no context manager, or the root context) there is none.
  const span = trace.getSpanContext(context.active());
  const ids = span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...ids, ...fields });
  process.stderr.write(`${line}\n`);
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
