import type { Span } from "@opentelemetry/api";
import type { Scope } from "./keys/scopes.js";

/** Request metadata, lower-case keys; a fetch Headers object is one. */
export interface Metadata {
  get(name: string): string | null;
  keys(): Iterable<string>;
}

/** Response metadata a handler or the pipeline adds to; a Headers object or a Map is one. */
export interface ResponseMetadata {
  set(name: string, value: string): unknown;
  forEach(callback: (value: string, key: string) => void): void;
}

/** Which door a call came through; used for metric labels only. */
export type Transport = "grpc" | "connect" | "rest";

/**
 * What a handler knows about the call it serves. Transport-agnostic: the gRPC,
 * Connect and REST adapters all fill it the same way.
 */
export interface CallContext {
  /** Request metadata, lower-case keys. */
  readonly headers: Metadata;
  /** Aborted when the client cancels, the deadline passes or the server stops. */
  readonly signal: AbortSignal;
  /** Absolute deadline in ms since the epoch, if the client set one. */
  readonly deadline: number | undefined;
  /** The API key's name (not the key) once authenticated, else undefined. */
  readonly principal: string | undefined;
  /** The caller's key's scopes (empty on an open method); check finer rules with `requireScope` (keys/scopes.ts). */
  readonly scopes: ReadonlySet<Scope>;
  /** The call's span, for handlers that add events or child spans. */
  readonly span: Span;
  readonly transport: Transport;
  /** Metadata to send back with the response (trace context, model version...). */
  readonly responseHeaders: ResponseMetadata;
}
