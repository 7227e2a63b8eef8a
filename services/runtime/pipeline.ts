import { setMaxListeners } from "node:events";
import { create, isMessage, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import type { ApiKeyAuth } from "./auth.js";
import { CallSignal } from "./call-signal.js";
import type { CallContext, Metadata, ResponseMetadata, Transport } from "./context.js";
import { MeshError, toMeshError } from "./errors.js";
import type { ServiceImpl } from "./handler.js";
import { log } from "./log.js";
import { MethodMetrics } from "./method-metrics.js";
import type { MeshMetrics } from "./metrics.js";
import { Status } from "./status.js";
import { MethodAccess } from "./keys/method-access.js";
import { scopeOf, UNDECLARED, type MethodScopes, type Scope } from "./keys/scopes.js";
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
  /** The scope a key needs to call it (unless open). */
  readonly scope: Scope;
  /**
   * Checks the API key alone (UNAUTHENTICATED without one, PERMISSION_DENIED
   * without the method's scope), for a transport that must refuse a caller
   * before it reads the body. The call itself checks again.
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
  private readonly calls = new InFlight();
  private readonly stopping = new AbortController();
  private readonly streamsEnding = new AbortController();
  /** What a long-lived stream listens on: the end of every call, or of streams alone (endStreams). */
  private readonly streamStopping: AbortSignal;

  constructor(private readonly deps: PipelineDeps) {
    // Every call in flight listens for shutdown on this one signal.
    setMaxListeners(0, this.stopping.signal);
    this.streamStopping = AbortSignal.any([this.stopping.signal, this.streamsEnding.signal]);
    setMaxListeners(0, this.streamStopping);
  }

  get activeCalls(): number {
    return this.calls.count;
  }

  /**
   * Binds a service's methods. `scopes` says which scope each needs (declared
   * once, by its area); without it every method needs `admin`, so a
   * forgotten declaration fails closed.
   */
  bind<S extends DescService>(service: S, impl: ServiceImpl<S>, options: { open?: boolean; scopes?: MethodScopes } = {}): BoundService {
    const scopes = options.scopes ?? UNDECLARED;
    const methods = service.methods.map(
      (method) =>
        new MethodBinding(
          this.deps,
          this.calls,
          this.stopping.signal,
          this.streamStopping,
          service,
          method,
          impl,
          options.open ?? false,
          scopeOf(scopes, method.name),
        ),
    );
    return { service, methods };
  }

  /** Aborts every running call's signal (after the grace period of a shutdown). */
  abortAll(): void {
    this.stopping.abort(new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
  }

  /**
   * Ends every open server stream (Health.Watch, WatchJob, reflection) with
   * UNAVAILABLE, a status clients retry: a draining replica would otherwise
   * hold them until the grace period is over, and a client behind a proxy
   * reconnects to another replica at once. Unary calls run on.
   */
  endStreams(): void {
    this.streamsEnding.abort(new MeshError(Status.UNAVAILABLE, "the server is shutting down: reconnect"));
  }

  /** Resolves once no call is in flight. */
  idle(): Promise<void> {
    return this.calls.idle();
  }
}

/** How many calls are in flight, and who waits for there to be none. */
class InFlight {
  count = 0;
  private idleWaiters: (() => void)[] = [];

  enter(): void {
    this.count++;
  }

  leave(): void {
    if (--this.count === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

type Handler = (req: Message, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>;

/**
 * One method of a service, bound to the pipeline. A call goes through the
 * same steps whether it is unary or streaming: start its span, prepare it
 * (authenticate, decode, validate), run the handler under the call's signal,
 * map a failure to a status, and finish (end the span, record the metrics).
 */
class MethodBinding implements BoundMethod {
  private readonly handler: Handler | undefined;
  private readonly spanName: string;
  private readonly metrics: MethodMetrics;
  private readonly access: MethodAccess;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly calls: InFlight,
    private readonly stopping: AbortSignal,
    private readonly streamStopping: AbortSignal,
    readonly service: DescService,
    readonly method: DescMethod,
    impl: object,
    readonly open: boolean,
    readonly scope: Scope,
  ) {
    this.handler = (impl as Record<string, unknown>)[method.localName] as Handler | undefined;
    this.spanName = `${service.typeName}/${method.name}`;
    this.metrics = new MethodMetrics(deps.metrics, service, method);
    this.access = new MethodAccess(deps.auth, deps.metrics, scope, this.spanName);
  }

  admit(headers: Metadata): void {
    // The call checks again and counts an allowed key then; a refusal here ends the call, so it is counted here.
    if (!this.open) this.access.check(headers, false);
  }

  unary(request: RequestSource, call: IncomingCall): Promise<Message> {
    const started = performance.now();
    this.calls.enter();
    const { span, active } = this.startSpan(call);
    // Everything the call runs, however deep, sees its span: log lines carry its ids, child spans find their parent.
    return context.with(active, () => this.runUnary(request, call, span, started));
  }

  private async runUnary(request: RequestSource, call: IncomingCall, span: Span, started: number): Promise<Message> {
    let code = Status.OK;
    let signal: CallSignal | undefined;
    let key: string | undefined;
    try {
      const prepared = this.prepare(request, call, span);
      signal = prepared.signal;
      key = prepared.ctx.principal;
      const result = this.handler!(prepared.message, prepared.ctx) as Promise<unknown>;
      return this.toOutput(await signal.race(result));
    } catch (err) {
      const mesh = this.fail(err, span, key);
      code = mesh.code;
      throw mesh;
    } finally {
      this.finish(call, started, span, code, signal);
    }
  }

  async *stream(request: RequestSource, call: IncomingCall): AsyncIterable<Message> {
    const started = performance.now();
    this.calls.enter();
    const { span, active } = this.startSpan(call);
    let code = Status.OK;
    let signal: CallSignal | undefined;
    let release: (() => void) | undefined;
    let key: string | undefined;
    try {
      // A generator's body runs in whoever calls next(): each step of the handler is entered in the call's context.
      const prepared = context.with(active, () => this.prepare(request, call, span, this.streamStopping));
      signal = prepared.signal;
      key = prepared.ctx.principal;
      release = this.deps.streams.acquire(call.peer, this.spanName);
      // A stream lives long: always watch for cancellation and shutdown.
      void prepared.ctx.signal;
      const iterator = context.with(active, () =>
        (this.handler!(prepared.message, prepared.ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator](),
      );
      try {
        for (;;) {
          const next = await signal.race(context.with(active, () => iterator.next()));
          if (next.done) break;
          yield this.toOutput(next.value);
        }
      } finally {
        await context.with(active, () => iterator.return?.());
      }
    } catch (err) {
      const mesh = context.with(active, () => this.fail(err, span, key));
      code = mesh.code;
      throw mesh;
    } finally {
      this.finish(call, started, span, code, signal, release);
    }
  }

  /** The call's span, continuing the caller's traceparent, and the context it is active in. */
  private startSpan(call: IncomingCall): { span: Span; active: Context } {
    const parent = extractTraceContext(call.headers);
    const span = this.deps.tracer.startSpan(
      this.spanName,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": this.service.typeName,
          "rpc.method": this.method.name,
          "mlmesh.transport": call.transport,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    injectTraceContext(active, call.responseHeaders);
    return { span, active };
  }

  /** Authenticates, decodes and validates the request, and builds what the handler sees. */
  private prepare(
    request: RequestSource,
    call: IncomingCall,
    span: Span,
    stopping = this.stopping,
  ): { message: Message; ctx: CallContext; signal: CallSignal } {
    const caller = this.open ? undefined : this.access.check(call.headers);
    if (caller) span.setAttribute("mlmesh.api_key", caller.name);
    let message: Message;
    if (typeof request === "function") {
      try {
        message = request();
      } catch (err) {
        // A decoder that already names the field and rule (an unknown enum name) is passed on as it is.
        if (err instanceof MeshError) throw err;
        throw new MeshError(Status.INVALID_ARGUMENT, `request is not a valid ${this.method.input.typeName}: ${(err as Error).message}`);
      }
    } else {
      message = request;
    }
    this.deps.validator.check(this.method.input, message);
    if (!this.handler) throw MeshError.unimplemented(this.spanName);
    const signal = new CallSignal(call, stopping);
    const ctx: CallContext = {
      headers: call.headers,
      get signal() {
        return signal.signal;
      },
      deadline: call.deadline,
      principal: caller?.name,
      scopes: caller?.scopes ?? NO_SCOPES,
      span,
      transport: call.transport,
      responseHeaders: call.responseHeaders,
    };
    return { message, ctx, signal };
  }

  private toOutput(value: unknown): Message {
    return isMessage(value, this.method.output) ? value : create(this.method.output, value as never);
  }

  /** The status a failure answers with, marked on the span; a bug or an outage is logged. */
  private fail(err: unknown, span: Span, key: string | undefined): MeshError {
    const mesh = toMeshError(err);
    if (mesh.code === Status.INTERNAL && !(err instanceof MeshError)) {
      log.error("handler failed", { rpc: this.spanName, key, error: err instanceof Error ? err.stack : String(err) });
    } else if (mesh.code === Status.UNAVAILABLE && !(err instanceof MeshError) && outageLogDue(mesh.message)) {
      // A storage outage fails every call that needs it: say so, not once per call.
      log.warn("call failed: storage unavailable (logged once per 10 s)", {
        rpc: this.spanName,
        key,
        answer: mesh.message,
        error: String(err),
      });
    }
    span.setStatus({ code: SpanStatusCode.ERROR, message: mesh.message });
    span.setAttribute("rpc.grpc.status_code", mesh.code);
    return mesh;
  }

  /** The clean-up every call ends with, unary or streaming, whatever its outcome. */
  private finish(
    call: IncomingCall,
    started: number,
    span: Span,
    code: Status,
    signal: CallSignal | undefined,
    release?: () => void,
  ): void {
    release?.();
    signal?.dispose();
    span.end();
    this.metrics.record(call.transport, code, (performance.now() - started) / 1000);
    this.calls.leave();
  }
}

const NO_SCOPES: ReadonlySet<Scope> = new Set();

const OUTAGE_LOG_INTERVAL_MS = 10_000;
const outageLoggedAt = new Map<string, number>();

/** Whether an outage answered with this message is due another log line (at most one per 10 s each). */
function outageLogDue(message: string): boolean {
  const now = Date.now();
  if (now - (outageLoggedAt.get(message) ?? -Infinity) < OUTAGE_LOG_INTERVAL_MS) return false;
  outageLoggedAt.set(message, now);
  return true;
}
