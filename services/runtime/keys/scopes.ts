import { MeshError } from "../errors.js";
import { Status } from "../status.js";

/**
 * What a key may do. `infer`: the four inference services; `jobs`: submit,
 * read, watch and cancel jobs; `admin`: force a promotion, retry a
 * dead-lettered job, write through the queue dashboard. A scope implies no
 * other: a key holds each one it needs.
 */
export const SCOPES = ["infer", "jobs", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Every scope, what a legacy MLMESH_API_KEYS key and a server without auth hold. */
export const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

/**
 * The scope each method of a service needs, declared once by the area that
 * serves it: `default` for its methods, `methods` (by method name, as in the
 * proto) for the exceptions.
 */
export interface MethodScopes {
  readonly default: Scope;
  readonly methods?: Readonly<Record<string, Scope>>;
}

/** An inference service: every method needs `infer`. */
export const INFER: MethodScopes = { default: "infer" };

/** A service bound without a declaration needs the strongest scope: a forgotten entry fails closed. */
export const UNDECLARED: MethodScopes = { default: "admin" };

/** The scope `method` of a service needs. */
export function scopeOf(scopes: MethodScopes, method: string): Scope {
  return scopes.methods?.[method] ?? scopes.default;
}

/** PERMISSION_DENIED naming the scope and what needed it. */
export function scopeDenied(scope: Scope, what: string): MeshError {
  return new MeshError(Status.PERMISSION_DENIED, `this key lacks the scope '${scope}' needed by ${what}`);
}

/**
 * Refuses the call unless its key holds `scope`; for checks finer than the
 * method (a field that needs more than the method does). `what` names what
 * needs it, e.g. "mlmesh.jobs.v1.JobQueueService/SubmitTrainingJob with force_promote".
 */
export function requireScope(held: { readonly scopes: ReadonlySet<Scope> }, scope: Scope, what: string): void {
  if (!held.scopes.has(scope)) throw scopeDenied(scope, what);
}
