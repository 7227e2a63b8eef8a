import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { guardHttp1, guardHttp2, guardSocket, http1Options, http2Options, type ListenerLimits } from "./listener-limits.js";

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

const PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One plaintext port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c).
 * Node's allowHTTP1 only works behind TLS, so we look at the first bytes of
 * each connection and hand it to the matching server.
 */
export class H2cOrHttp1Server {
  readonly tcp: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.Http2Session>();

  constructor(handler: Handler, limits: ListenerLimits) {
    this.h1 = http.createServer(http1Options(limits), handler as http.RequestListener);
    this.h2 = http2.createServer(http2Options(limits), handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    guardHttp1(this.h1, "connect");
    // Node checks headersTimeout and requestTimeout from a timer it starts on 'listening'; this
    // server never listens (it is handed sockets), so without this a slow client is never cut off.
    this.h1.emit("listening");
    guardHttp2(this.h2, "connect", limits);
    this.h2.on("session", (session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
    // noDelay as node:http's own servers set it: a small answer goes out at once instead of waiting on Nagle.
    this.tcp = net.createServer({ noDelay: true }, (socket) => {
      // Before anything else: a client that resets the connection before its first byte emits 'error' here.
      guardSocket(socket, limits.headersTimeoutMs);
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        const isH2 =
          chunk.length >= PREFACE.length
            ? chunk.subarray(0, PREFACE.length).equals(PREFACE)
            : PREFACE.subarray(0, chunk.length).equals(chunk);
        (isH2 ? this.h2 : this.h1).emit("connection", socket);
        process.nextTick(() => socket.resume());
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once("error", reject);
      this.tcp.listen(port, host, () => resolve((this.tcp.address() as net.AddressInfo).port));
    });
  }

  /** Stops accepting; open HTTP/2 sessions get GOAWAY, idle HTTP/1.1 connections close. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const s of this.sessions) s.close();
    this.h1.closeIdleConnections();
    return closed;
  }

  /** Drops whatever is still open after the grace period. */
  destroy(): void {
    // Stops the timeout checks started in the constructor.
    this.h1.close(() => undefined);
    for (const s of this.sessions) s.destroy();
    for (const socket of this.sockets) socket.destroy();
  }
}
