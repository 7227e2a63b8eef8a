import type { ApiKeyAuth, Caller } from "../auth.js";
import type { Metadata } from "../context.js";
import { log } from "../log.js";
import type { MeshMetrics } from "../metrics.js";
import { scopeDenied, type Scope } from "./scopes.js";

// A client retrying a refused call would otherwise write a line per call.
const DENIED_LOG_INTERVAL_MS = 10_000;
const deniedLoggedAt = new Map<string, number>();

/**
 * Who may call one method: a valid key (UNAUTHENTICATED otherwise) holding
 * the method's scope (PERMISSION_DENIED naming it otherwise). Each check is
 * counted in mlmesh_api_key_requests_total by the key's name, and a refusal
 * logged with it (once per 10 s per key and method); never the key itself.
 */
export class MethodAccess {
  // Counter children per key entry, so a call does not hash its labels; a reloaded key is a new entry.
  private readonly counters = new WeakMap<Caller, { inc(): void }>();

  constructor(
    private readonly auth: ApiKeyAuth,
    private readonly metrics: MeshMetrics,
    readonly scope: Scope,
    /** The method's full name, e.g. "mlmesh.jobs.v1.JobQueueService/RetryJob". */
    private readonly method: string,
  ) {}

  /** The caller, if its key holds the scope; `countAllowed` false for a pre-check the call repeats. */
  check(headers: Metadata, countAllowed = true): Caller {
    const caller = this.auth.authenticate(headers);
    const allowed = caller.scopes.has(this.scope);
    if (!allowed || countAllowed) this.counter(caller, allowed).inc();
    if (allowed) return caller;
    if (deniedLogDue(`${caller.name} ${this.method}`)) {
      log.warn("permission denied (logged once per 10 s per key and method)", { key: caller.name, rpc: this.method, scope: this.scope });
    }
    throw scopeDenied(this.scope, this.method);
  }

  private counter(caller: Caller, allowed: boolean): { inc(): void } {
    let c = this.counters.get(caller);
    if (!c) this.counters.set(caller, (c = this.metrics.keyRequests.labels(caller.name, this.scope, allowed ? "allowed" : "denied")));
    return c;
  }
}

function deniedLogDue(keyAndMethod: string): boolean {
  const now = Date.now();
  if (now - (deniedLoggedAt.get(keyAndMethod) ?? -Infinity) < DENIED_LOG_INTERVAL_MS) return false;
  deniedLoggedAt.set(keyAndMethod, now);
  return true;
}
