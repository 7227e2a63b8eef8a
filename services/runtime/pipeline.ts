import { setMaxListeners } from "node:events";
import { create, isMessage, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { SpanKind, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";
import type { ApiKeyAuth } from "./auth.js";
import type { CallContext, Metadata, ResponseMetadata, Transport } from "./context.js";
import { MeshError, toMeshError } from "./errors.js";
import type { ServiceImpl } from "./handler.js";
import { log } from "./log.js";
import type { MeshMetrics } from "./metrics.js";
import { Status, statusName } from "./status.js";
import { extractTraceContext, injectTraceContext } from "./tracing.js";
import type { StreamLimits } from "./stream-limits.js";
import type { RequestValidator } from "./validation.js";

/** What a transport knows about an incoming call before the pipeline runs. */
export interface IncomingCall {
  readonly headers: Metadata;
  /** Aborted by the transport when the client goes away. */
  readonly signal: AbortSignal | undefined;
  /** Absolute deadline in ms since the epoch. */
  readonly deadline: number | undefined;
  readonly transport: Transport;
  /** Filled by the pipeline: trace context and anything handlers add. */
  readonly responseHeaders: ResponseMetadata;
  /** The connection the call came on (remote address and port), for per-connection caps. */
  readonly peer?: string;
}

/** A request, or a thunk that decodes it (so decode failures are counted like any other). */
export type RequestSource = Message | (() => Message);

export interface BoundMethod {
  readonly service: DescService;
  readonly method: DescMethod;
  /** No API key needed (health, reflection). */
  readonly open: boolean;
  /**
   * Checks the API key alone (UNAUTHENTICATED without one), for a transport
   * that must refuse a caller before it reads the body. The call itself checks again.
   */
  admit(headers: Metadata): void;
  unary(request: RequestSource, call: IncomingCall): Promise<Message>;
  stream(request: RequestSource, call: IncomingCall): AsyncIterable<Message>;
}

export interface BoundService {
  readonly service: DescService;
  readonly methods: readonly BoundMethod[];
}

export interface PipelineDeps {
  auth: ApiKeyAuth;
  validator: RequestValidator;
  metrics: MeshMetrics;
  tracer: Tracer;
  /** Caps on open server-streaming calls, per connection and in total. */
  streams: StreamLimits;
}

/**
 * Everything every call goes through, written once for all transports:
 * authentication, validation against the contract, deadlines and
 * cancellation, tracing, metrics and error mapping. Transports only decode,
 * call `unary`/`stream` and encode.
 */
export class Pipeline {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly stopping = new AbortController();

  constructor(private readonly deps: PipelineDeps) {
    // Every call in flight listens for shutdown on this one signal.
    setMaxListeners(0, this.stopping.signal);
  }

  get activeCalls(): number {
    return this.inFlight;
  }

  bind<S extends DescService>(service: S, impl: ServiceImpl<S>, options: { open?: boolean } = {}): BoundService {
    const methods = service.methods.map((method) => this.bindMethod(service, method, impl, options.open ?? false));
    return { service, methods };
  }

  /** Aborts every running call's signal (after the grace period of a shutdown). */
  abortAll(): void {
    this.stopping.abort(new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
  }

  /** Resolves once no call is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enter(): void {
    this.inFlight++;
  }

  private leave(): void {
    if (--this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private bindMethod(service: DescService, method: DescMethod, impl: object, open: boolean): BoundMethod {
    const handler = (impl as Record<string, unknown>)[method.localName] as
      | ((req: Message, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>)
      | undefined;
    const { auth, validator, metrics, tracer, streams } = this.deps;
    const spanName = `${service.typeName}/${method.name}`;
    const pipeline = this;
    const children = new Map<Transport, { duration: ReturnType<typeof metrics.rpcDuration.labels> }>();
    const durationFor = (transport: Transport) => {
      let c = children.get(transport);
      if (!c) {
        c = { duration: metrics.rpcDuration.labels(service.typeName, method.name, transport) };
        children.set(transport, c);
      }
      return c.duration;
    };
    // Label lookups hash their values on every call; keep the children instead.
    const counters = new Map<string, { requests: { inc(): void }; errors: { inc(): void } }>();
    const record = (transport: Transport, code: Status, seconds: number) => {
      const key = `${transport}:${code}`;
      let c = counters.get(key);
      if (!c) {
        const name = statusName(code);
        c = {
          requests: metrics.rpcRequests.labels(service.typeName, method.name, name, transport),
          errors: metrics.rpcErrors.labels(service.typeName, method.name, name, transport),
        };
        counters.set(key, c);
      }
      c.requests.inc();
      if (code !== Status.OK) c.errors.inc();
      durationFor(transport).observe(seconds);
    };

    const prepare = (request: RequestSource, call: IncomingCall, span: Span): { message: Message; ctx: CallContext; signal: CallSignal } => {
      const principal = open ? undefined : auth.authenticate(call.headers);
      let message: Message;
      if (typeof request === "function") {
        try {
          message = request();
        } catch (err) {
          throw new MeshError(Status.INVALID_ARGUMENT, `request is not a valid ${method.input.typeName}: ${(err as Error).message}`);
        }
      } else {
        message = request;
      }
      validator.check(method.input, message);
      if (!handler) throw MeshError.unimplemented(spanName);
      const signal = new CallSignal(call, pipeline.stopping.signal);
      const ctx: CallContext = {
        headers: call.headers,
        get signal() {
          return signal.signal;
        },
        deadline: call.deadline,
        principal,
        span,
        transport: call.transport,
        responseHeaders: call.responseHeaders,
      };
      return { message, ctx, signal };
    };

    const startSpan = (call: IncomingCall): Span => {
      const parent = extractTraceContext(call.headers);
      const span = tracer.startSpan(
        spanName,
        {
          kind: SpanKind.SERVER,
          attributes: { "rpc.system": "grpc", "rpc.service": service.typeName, "rpc.method": method.name, "mlmesh.transport": call.transport },
        },
        parent,
      );
      injectTraceContext(trace.setSpan(parent, span), call.responseHeaders);
      return span;
    };

    const fail = (err: unknown, span: Span): MeshError => {
      const mesh = toMeshError(err);
      if (mesh.code === Status.INTERNAL && !(err instanceof MeshError)) {
        log.error("handler failed", { rpc: spanName, error: err instanceof Error ? err.stack : String(err) });
      } else if (mesh.code === Status.UNAVAILABLE && !(err instanceof MeshError) && outageLogDue(mesh.message)) {
        // A storage outage fails every call that needs it: say so, not once per call.
        log.warn("call failed: storage unavailable (logged once per 10 s)", { rpc: spanName, answer: mesh.message, error: String(err) });
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: mesh.message });
      span.setAttribute("rpc.grpc.status_code", mesh.code);
      return mesh;
    };

    const toOutput = (value: unknown): Message =>
      isMessage(value, method.output) ? value : create(method.output, value as never);

    return {
      service,
      method,
      open,
      admit(headers) {
        if (!open) auth.authenticate(headers);
      },
      async unary(request, call) {
        const started = performance.now();
        pipeline.enter();
        const span = startSpan(call);
        let code = Status.OK;
        let signal: CallSignal | undefined;
        try {
          const prepared = prepare(request, call, span);
          signal = prepared.signal;
          const result = handler!(prepared.message, prepared.ctx) as Promise<unknown>;
          return toOutput(await signal.race(result));
        } catch (err) {
          const mesh = fail(err, span);
          code = mesh.code;
          throw mesh;
        } finally {
          signal?.dispose();
          span.end();
          record(call.transport, code, (performance.now() - started) / 1000);
          pipeline.leave();
        }
      },
      async *stream(request, call) {
        const started = performance.now();
        pipeline.enter();
        const span = startSpan(call);
        let code = Status.OK;
        let signal: CallSignal | undefined;
        let release: (() => void) | undefined;
        try {
          const prepared = prepare(request, call, span);
          signal = prepared.signal;
          release = streams.acquire(call.peer, spanName);
          // A stream lives long: always watch for cancellation and shutdown.
          void prepared.ctx.signal;
          const iterable = handler!(prepared.message, prepared.ctx) as AsyncIterable<unknown>;
          const iterator = iterable[Symbol.asyncIterator]();
          try {
            for (;;) {
              const next = await signal.race(iterator.next());
              if (next.done) break;
              yield toOutput(next.value);
            }
          } finally {
            await iterator.return?.();
          }
        } catch (err) {
          const mesh = fail(err, span);
          code = mesh.code;
          throw mesh;
        } finally {
          release?.();
          signal?.dispose();
          span.end();
          record(call.transport, code, (performance.now() - started) / 1000);
          pipeline.leave();
        }
      },
    };
  }
}

/**
 * The signal a handler sees: aborted when the client cancels, the deadline
 * passes, or the server gives up waiting at shutdown, with the status to
 * report. Built on first use (or at once when a deadline is set): most small
 * calls never look at it, and an AbortController per call shows in profiles.
 */
class CallSignal {
  private controller: AbortController | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly call: IncomingCall,
    private readonly stopping: AbortSignal,
  ) {
    if (call.deadline !== undefined) void this.signal;
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = (this.controller = new AbortController());
    const link = (source: AbortSignal, reason: () => MeshError) => {
      if (source.aborted) {
        controller.abort(reason());
        return;
      }
      const onAbort = () => controller.abort(reason());
      source.addEventListener("abort", onAbort, { once: true });
      this.cleanups.push(() => source.removeEventListener("abort", onAbort));
    };
    if (this.call.signal) link(this.call.signal, () => new MeshError(Status.CANCELLED, "the client cancelled the call"));
    link(this.stopping, () => new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
    const deadline = this.call.deadline;
    if (deadline !== undefined) {
      const expired = () => new MeshError(Status.DEADLINE_EXCEEDED, "the deadline expired before the call finished");
      const remaining = deadline - Date.now();
      if (remaining <= 0) controller.abort(expired());
      else {
        const timer = setTimeout(() => controller.abort(expired()), remaining);
        this.cleanups.push(() => clearTimeout(timer));
      }
    }
    return controller.signal;
  }

  /** Settles with the handler, or sooner with the abort reason once a signal exists and fires. */
  race<T>(promise: Promise<T>): Promise<T> {
    return this.controller ? untilAborted(promise, this.controller.signal) : promise;
  }

  dispose(): void {
    for (const c of this.cleanups) c();
  }
}

/** Settles with the promise, or rejects with the abort reason as soon as the signal fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

const OUTAGE_LOG_INTERVAL_MS = 10_000;
const outageLoggedAt = new Map<string, number>();

/** Whether an outage answered with this message is due another log line (at most one per 10 s each). */
function outageLogDue(message: string): boolean {
  const now = Date.now();
  if (now - (outageLoggedAt.get(message) ?? -Infinity) < OUTAGE_LOG_INTERVAL_MS) return false;
  outageLoggedAt.set(message, now);
  return true;
}
