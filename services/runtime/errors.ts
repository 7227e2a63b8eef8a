import { Status } from "./status.js";

/** A field that broke a contract rule, as INVALID_ARGUMENT reports it. */
export interface FieldViolation {
  field: string;
  rule: string;
  message: string;
}

/**
 * The one error type handlers throw. Its message goes to the client as is, so
 * it must never carry internals; anything else thrown becomes INTERNAL with a
 * generic message and is logged server-side.
 */
export class MeshError extends Error {
  override readonly name = "MeshError";
  constructor(
    readonly code: Status,
    message: string,
    readonly violations: readonly FieldViolation[] = [],
  ) {
    super(message);
  }

  static notFound(message: string): MeshError {
    return new MeshError(Status.NOT_FOUND, message);
  }

  static unimplemented(what: string): MeshError {
    return new MeshError(Status.UNIMPLEMENTED, `${what} is not implemented yet`);
  }

  static unavailable(message: string): MeshError {
    return new MeshError(Status.UNAVAILABLE, message);
  }
}

/** What a client may see of any thrown value. */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  if (isAbort(err)) return new MeshError(Status.CANCELLED, "the call was cancelled");
  const store = unavailableStore(err);
  if (store) return new MeshError(Status.UNAVAILABLE, UNAVAILABLE_MESSAGES[store]);
  return new MeshError(Status.INTERNAL, "internal error");
}

/** A backing service that a connection failure came from; "storage" when the error does not say which. */
export type UnavailableStore = "database" | "redis" | "storage";

const UNAVAILABLE_MESSAGES: Record<UnavailableStore, string> = {
  database: "database unavailable: retry later",
  redis: "Redis unavailable: retry later",
  storage: "a storage service is unavailable: retry later",
};

/** Socket failures: the peer is down, unreachable, or went away. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);
/** postgres.js's own connection errors. */
const POSTGRES_JS_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);
/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong": class 08
 * (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03
 * cannot connect now (starting up, shutting down, in recovery), 53300 too many
 * connections.
 */
const POSTGRES_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
/** ioredis and Redis: the connection is down, or the server cannot answer yet. */
const REDIS_NAMES = new Set(["MaxRetriesPerRequestError"]);
const REDIS_MESSAGES = [/^Connection is closed\.?$/, /enableOfflineQueue options is false/, /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/];

/** Ports of the PostgreSQL servers this process opened, to tell a refused database connection from any other. */
const databasePorts = new Set<number>();

/** Called by openDatabase: socket errors from this port are the database's. */
export function noteDatabasePort(port: number): void {
  databasePorts.add(port);
}

/**
 * Whether a thrown value means a backing store (PostgreSQL, Redis) cannot be
 * reached, and which: the one place that tells an outage (UNAVAILABLE, worth
 * retrying) from a fault (INTERNAL). Looks through `cause` and an
 * AggregateError's errors (a connect that tried several addresses).
 */
export function unavailableStore(err: unknown, depth = 0): UnavailableStore | undefined {
  if (depth > 4 || typeof err !== "object" || err === null || err instanceof MeshError) return undefined;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; port?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  const name = typeof e.name === "string" ? e.name : "";
  const message = typeof e.message === "string" ? e.message : "";
  if (code && POSTGRES_JS_CODES.has(code)) return "database";
  if (name === "PostgresError" && code && POSTGRES_UNAVAILABLE.test(code)) return "database";
  if (REDIS_NAMES.has(name) || REDIS_MESSAGES.some((re) => re.test(message))) return "redis";
  if (code && SOCKET_CODES.has(code)) {
    if (typeof e.port === "number") return databasePorts.has(e.port) ? "database" : "storage";
    // A reset or broken pipe on an open socket names no port (only a connect does); postgres.js marks the
    // errors it rejects a query with, so one that met a PostgreSQL server going away is still the database's.
    return rejectedByPostgresJs(e) ? "database" : "storage";
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const store = unavailableStore(inner, depth + 1);
      if (store) return store;
    }
  }
  return e.cause === undefined ? undefined : unavailableStore(e.cause, depth + 1);
}

/** postgres.js gives an error it rejects a query with the query's text and parameters (non-enumerable, both own properties). */
function rejectedByPostgresJs(e: object): boolean {
  return Object.hasOwn(e, "query") && Object.hasOwn(e, "parameters");
}

/** Marks of text that must not reach a client: SQL, a file path, a stack frame. */
const INTERNALS = [
  /\b(select|insert\s+into|update|delete\s+from|copy|create|alter|drop|truncate)\b[\s\S]*\b(from|into|set|where|table|values|returning)\b/i,
  /(^|[\s'"(=:,])(\/[\w.@+-]+){2,}/,
  /\bfile:\/\//i,
  /\b[A-Za-z]:\\/,
  /^\s*at\s.+(:\d+:\d+\)?|\(native\)|<anonymous>)\s*$/m,
  /\.(ts|js|mjs|cjs|c|py):\d+/,
];
/** Properties of library and system errors, whose messages describe internals (a table, a file, a socket). */
const INTERNAL_FIELDS = ["code", "errno", "syscall", "path", "query", "severity", "routine"];

/**
 * A message about a thrown value that may be stored where clients read it (a
 * job's `error`): a MeshError's message, "database unavailable" for an outage,
 * the first line of a plain Error of our own code ("no destinations in the
 * database: run `mlmesh seed` first"), and otherwise `fallback`. Never SQL
 * text, a stack trace or a file path; the full error belongs in the log.
 */
export function clientSafeMessage(err: unknown, fallback = "internal error"): string {
  if (err instanceof MeshError) return err.message;
  const store = unavailableStore(err);
  if (store) return UNAVAILABLE_MESSAGES[store];
  if (!(err instanceof Error) || !["Error", "UnrecoverableError"].includes(err.name)) return fallback;
  if (INTERNAL_FIELDS.some((f) => f in err)) return fallback;
  const line = err.message.split("\n", 1)[0].trim().slice(0, 500);
  if (!line || INTERNALS.some((re) => re.test(err.message))) return fallback;
  return line;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || (err as { code?: string }).code === "ABORT_ERR");
}
