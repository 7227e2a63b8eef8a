import type http from "node:http";
import type http2 from "node:http2";
import type net from "node:net";
import type { MeshConfig } from "../config.js";
import { log } from "../log.js";

/**
 * The limits every listener applies to what a client may hold open. Each one
 * answers a way a client could otherwise wedge a port or the process: headers
 * that never finish (slowloris), bodies that never end, connections that say
 * nothing, or more concurrent streams than the server can serve.
 */
export interface ListenerLimits {
  /** A request's headers must arrive within this (and a new connection's first bytes). */
  headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An HTTP/1.1 keep-alive or HTTP/2 connection with nothing in flight is closed after this. */
  idleTimeoutMs: number;
  /** Concurrent HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerConnection: number;
  /** Request header bytes, HTTP/1.1 and HTTP/2 alike. */
  maxHeaderBytes: number;
  /** Request body bytes (MLMESH_MAX_MESSAGE_BYTES). */
  maxBodyBytes: number;
}

/** The limits the checked settings give (MLMESH_HEADERS_TIMEOUT_MS and the rest). */
export function listenerLimits(config: MeshConfig): ListenerLimits {
  return {
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    maxHeaderBytes: 16 * 1024,
    maxBodyBytes: config.maxMessageBytes,
  };
}

/** HTTP/1.1 server options that apply the limits. */
export function http1Options(limits: ListenerLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: Math.min(limits.idleTimeoutMs, 5_000),
    maxHeaderSize: limits.maxHeaderBytes,
    // How often Node checks the two timeouts above; its default (30 s) would let a slow client keep a socket 3x longer.
    connectionsCheckingInterval: Math.max(250, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4),
  };
}

/** HTTP/2 server options that apply the limits. */
export function http2Options(limits: ListenerLimits): http2.ServerOptions {
  return {
    maxHeaderListPairs: 128,
    maxSessionMemory: 10,
    maxSendHeaderBlockLength: 64 * 1024,
    settings: { maxConcurrentStreams: limits.maxStreamsPerConnection, maxHeaderListSize: limits.maxHeaderBytes },
  };
}

/**
 * Error handlers and timeouts an HTTP/1.1 server needs beyond its options: a
 * malformed request or a reset socket is answered or dropped, never an
 * unhandled 'error' event, and a connection that sends nothing is closed.
 */
export function guardHttp1(server: http.Server, name: string): void {
  // No first-bytes deadline here: Node's parser may read the socket's handle directly, so a 'data'
  // listener would never hear the request; headersTimeout covers a connection that sends nothing.
  server.on("connection", (socket: net.Socket) => guardSocket(socket));
  server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    log.debug("client error", { listener: name, code: err.code });
    if (!socket.writable || !err.code || err.code === "ECONNRESET" || err.code === "EPIPE") {
      socket.destroy();
      return;
    }
    const status =
      err.code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "408 Request Timeout"
          : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.on("error", () => undefined);
    res.on("error", () => undefined);
  });
}

/** Error handlers and idle timeouts for the sessions and streams of an HTTP/2 server. */
export function guardHttp2(server: http2.Http2Server, name: string, limits: ListenerLimits): void {
  server.on("sessionError", (err: NodeJS.ErrnoException) => log.debug("http2 session error", { listener: name, code: err.code }));
  server.on("session", (session: http2.ServerHttp2Session) => {
    session.on("error", () => undefined);
    // Idle means no frames at all; an open stream that is quiet keeps its session (close() waits for streams).
    session.setTimeout(limits.idleTimeoutMs, () => session.close());
  });
  server.on("stream", (stream: http2.ServerHttp2Stream) => stream.on("error", () => undefined));
  server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    req.on("error", () => undefined);
    res.on("error", () => undefined);
  });
}

/**
 * An error handler for a raw socket: a reset from a load balancer's TCP check
 * must not end the process. With `firstBytesMs`, a socket that has sent
 * nothing by then is closed; only for sockets whose 'data' events we read.
 */
export function guardSocket(socket: net.Socket, firstBytesMs?: number): void {
  socket.on("error", () => undefined);
  if (firstBytesMs !== undefined && socket.bytesRead === 0) {
    const silent = () => socket.destroy();
    socket.setTimeout(firstBytesMs, silent);
    socket.once("data", () => socket.setTimeout(0, silent));
  }
}
