import http2 from "node:http2";
import type net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { ServerReflectionRequestSchema } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { Status, statusName } from "../services/runtime/status.js";
import {
  closed,
  connect,
  flood,
  frame,
  FrameType,
  grpcMessage,
  grpcRequestHeaders,
  headerBlock,
  PREFACE,
  randomBytes,
  write,
} from "./wire.js";

/**
 * The soak's hostile clients (`node dist/bench/soak-abuse.js`, started by
 * bench/soak.ts in a process of its own): for SOAK_ABUSE_SECONDS, loops of
 * abuse against the mesh's four ports on 127.0.0.1 (SOAK_PORTS, JSON), with
 * and without the API key (SOAK_API_KEY), all at once. Every loop is bounded:
 * a fixed rate (or a fixed number of connections held open), each operation
 * with a deadline, and at the end every socket and session still open is
 * destroyed. Prints what it sent and what the server answered as JSON on
 * stdout, then exits.
 *
 * SOAK_ABUSE_ONLY (comma-separated parts of the abuse names, "rapid,idle")
 * runs only those: to find which abuse does what.
 */

export interface AbuseSummary {
  seconds: number;
  /** "abuse: outcome" → count. */
  counts: Record<string, number>;
  /** Connections held open ("slowloris on the gateway port" ...): how the server dealt with them. */
  held: Record<string, HeldStats>;
  /** Each abuse's rate, as the table shows it. */
  rates: Record<string, string>;
  /** CPU seconds (user + system) the attacker used. */
  cpuSeconds: number;
}

export interface HeldStats {
  opened: number;
  /** Closed by the server while the soak ran, and how long after we opened them. */
  closedByServer: number;
  meanMs: number;
  maxMs: number;
  /** Still open when the soak ended (we closed them). */
  stillOpen: number;
  /** The server's first answer on the connection ("HTTP 408", "HTTP/2 frames", "none") → count. */
  answers: Record<string, number>;
}

interface Ports {
  grpc: number;
  connect: number;
  admin: number;
  gateway: number;
}

const ports = JSON.parse(process.env.SOAK_PORTS ?? "null") as Ports;
const seconds = Number(process.env.SOAK_ABUSE_SECONDS ?? 60);
const apiKey = process.env.SOAK_API_KEY ?? "";
if (!ports || !(seconds > 0)) throw new Error("soak-abuse: set SOAK_PORTS and SOAK_ABUSE_SECONDS");
const auth = `Bearer ${apiKey}`;
const started = Date.now();
const until = started + seconds * 1000;
const running = () => Date.now() < until;
const only = process.env.SOAK_ABUSE_ONLY?.toLowerCase().split(",").filter(Boolean);
const enabled = (name: string) => !only?.length || only.some((part) => name.toLowerCase().includes(part));

const counts: Record<string, number> = {};
const count = (key: string, n = 1) => void (counts[key] = (counts[key] ?? 0) + n);
const held: Record<string, HeldStats> = {};
const rates: Record<string, string> = {};

// Everything open, so the end can close it all.
const sockets = new Set<net.Socket>();
const sessions = new Set<http2.ClientHttp2Session>();

async function open(port: number, what: string): Promise<net.Socket | undefined> {
  try {
    // A connect the server's full accept queue leaves pending gives up by the end of the soak.
    const socket = await connect(port, Math.min(10_000, until - Date.now()));
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // No operation outlives the soak.
    if (!running()) socket.destroy();
    return socket;
  } catch (err) {
    count(`${what}: connect failed (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    return undefined;
  }
}

function session(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on("error", () => undefined);
  sessions.add(s);
  s.once("close", () => sessions.delete(s));
  return s;
}

/** Destroys the socket after `ms` (or at the end of the soak, whichever is first). */
function deadline(socket: net.Socket, ms: number): void {
  const timer = setTimeout(() => socket.destroy(), Math.max(0, Math.min(ms, until - Date.now())));
  socket.once("close", () => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, until - Date.now()))));

/**
 * Starts `body` every `periodMs` until the soak ends (at once after the last
 * one if that took longer), so each abuse has a fixed rate, not whatever the
 * attacker's CPU allows. A throw is counted, not fatal.
 */
async function loop(name: string, periodMs: number, rate: string, body: () => Promise<void>): Promise<void> {
  if (!enabled(name)) return;
  rates[name] = rate;
  while (running()) {
    const next = Date.now() + periodMs;
    try {
      await body();
    } catch (err) {
      count(`${name}: client-side error (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    await sleep(next - Date.now());
  }
}

/** `workers` connections held open at once (opened `staggerMs` apart); one the server closes is reopened after `reopenMs`. */
function pool(
  name: string,
  workers: number,
  staggerMs: number,
  reopenMs: number,
  body: (worker: number) => Promise<void>,
): Promise<void>[] {
  if (!enabled(name)) return [];
  rates[name] = `${workers} open at once`;
  return Array.from({ length: workers }, async (_, i) => {
    await sleep(i * staggerMs);
    while (running()) {
      try {
        await body(i);
      } catch (err) {
        count(`${name}: client-side error (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      await sleep(reopenMs);
    }
  });
}

/**
 * Holds `socket` open until the server closes it or the soak ends, calling
 * `tick` every `everyMs` meanwhile; records the server's first answer and
 * how long it let the connection live.
 */
async function hold(name: string, socket: net.Socket, tick?: { everyMs: number; send: () => string }): Promise<void> {
  const h = (held[name] ??= { opened: 0, closedByServer: 0, meanMs: 0, maxMs: 0, stillOpen: 0, answers: {} });
  h.opened++;
  const opened = Date.now();
  let first: string | undefined;
  socket.on("data", (d: Buffer) => (first ??= outcome(d)));
  const timer = tick ? setInterval(() => void write(socket, tick.send()), tick.everyMs) : undefined;
  await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
  clearInterval(timer);
  if (running()) {
    const ms = Date.now() - opened;
    h.closedByServer++;
    h.meanMs += (ms - h.meanMs) / h.closedByServer;
    h.maxMs = Math.max(h.maxMs, ms);
  } else h.stillOpen++;
  const answer = first ?? "none";
  h.answers[answer] = (h.answers[answer] ?? 0) + 1;
}

/** The status of an HTTP/1.1 answer ("HTTP 413"), or what else came back. */
function outcome(reply: Buffer): string {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply.subarray(0, 32).toString("latin1"));
  if (m) {
    // Node answers `Expect: 100-continue`-less requests too with their final status; skip an interim 100.
    const final = /\r\n\r\nHTTP\/1\.[01] (\d{3})/.exec(reply.subarray(0, 256).toString("latin1"));
    return `HTTP ${m[1] === "100" && final ? final[1] : m[1]}`;
  }
  return reply.length === 0
    ? "closed, no answer"
    : reply.length >= 9 && reply[3] === FrameType.SETTINGS
      ? "HTTP/2 frames"
      : "bytes that are not HTTP";
}

/** One HTTP/2 request; resolves with its gRPC status (or Connect error code, or :status) and never waits past `ms`. */
function h2Request(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Buffer | undefined, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = s.request(headers);
    } catch (err) {
      return resolve(`request refused by the client library (${(err as NodeJS.ErrnoException).code})`);
    }
    let status: string | undefined;
    let grpcStatus: string | undefined;
    let contentType = "";
    let text = "";
    let gaveUp = false;
    const timer = setTimeout(
      () => {
        gaveUp = true;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      },
      Math.max(1, Math.min(ms, until - Date.now())),
    );
    stream.on("error", () => undefined);
    stream.on("response", (h) => {
      status = String(h[":status"]);
      grpcStatus ??= h["grpc-status"] as string | undefined;
      contentType = String(h["content-type"] ?? "");
    });
    stream.on("trailers", (t) => (grpcStatus = t["grpc-status"] as string | undefined));
    stream.on("data", (d: Buffer) => void (text.length < 65536 && (text += d.toString("latin1"))));
    stream.on("close", () => {
      clearTimeout(timer);
      const connectCode = contentType.startsWith("application/connect") ? /"code":"(\w+)"/.exec(text)?.[1] : undefined;
      if (grpcStatus !== undefined) resolve(Number(grpcStatus) in Status ? statusName(Number(grpcStatus)) : `grpc-status ${grpcStatus}`);
      else if (connectCode) resolve(`Connect error ${connectCode} (HTTP ${status})`);
      else if (gaveUp) resolve(running() ? `no answer in ${ms / 1000} s` : "no answer before the soak ended");
      else if (status) resolve(`HTTP ${status}`);
      else
        resolve(
          `stream reset by the server (${stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? "REFUSED_STREAM" : stream.rstCode})`,
        );
    });
    stream.end(body);
  });
}

/** An HTTP/1.1 request on a connection of its own; resolves with the answer's status. */
async function http1(port: number, what: string, request: string): Promise<string | undefined> {
  const socket = await open(port, what);
  if (!socket) return undefined;
  deadline(socket, 10_000);
  const done = closed(socket);
  await write(socket, request);
  return outcome(await done);
}

const FORECAST = "/mlmesh.forecast.v1.ForecastService/ForecastDemand";
const HEALTH = "/grpc.health.v1.Health/Check";
const h2Ports = () => [ports.grpc, ports.connect];
const http1Ports = () => [ports.gateway, ports.connect, ports.admin];
const allPorts = () => [ports.grpc, ports.connect, ports.admin, ports.gateway];
const portName = (port: number) => Object.entries(ports).find(([, p]) => p === port)?.[0] ?? String(port);
/** A path on each HTTP/1.1 port that takes a POST body (the admin one behind the key). */
const postPath = (port: number) => (port === ports.gateway ? "/forecast/demand" : port === ports.connect ? FORECAST : "/queues/api/queues");

// 1. TCP connect and reset on every port: before any byte, after part of a preface, after a whole one, mid-request.
const tcpReset = loop("TCP connect+reset", 200, "16 connections / 200 ms", async () => {
  const befores = [undefined, PREFACE.subarray(0, 5), PREFACE, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n")];
  await Promise.all(
    allPorts().flatMap((port) =>
      befores.map(async (before) => {
        const socket = await open(port, "TCP connect+reset");
        if (!socket) return;
        if (before) await write(socket, before);
        socket.resetAndDestroy();
        count("TCP connect+reset: connections");
      }),
    ),
  );
});

// 2. HTTP/2 rapid reset (CVE-2023-44487): HEADERS then RST_STREAM, 1,000 streams per connection.
let rapidTurn = 0;
const rapidReset = loop(
  "HTTP/2 rapid reset",
  500,
  "1 connection of 1,000 streams / 500 ms, the gRPC and Connect ports in turn",
  async () => {
    const port = h2Ports()[rapidTurn++ % 2];
    const socket = await open(port, "HTTP/2 rapid reset");
    if (!socket) return;
    deadline(socket, 10_000);
    const done = closed(socket);
    const headers = grpcRequestHeaders(HEALTH);
    let id = 1;
    const batches = function* () {
      yield Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]);
      for (let batch = 0; batch < 4; batch++) {
        const frames: Buffer[] = [];
        for (let i = 0; i < 250; i++, id += 2) {
          frames.push(frame(FrameType.HEADERS, 0x4, id, headers), frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
        }
        yield Buffer.concat(frames);
      }
    };
    const sent = await flood(socket, batches());
    count(`HTTP/2 rapid reset: streams opened and reset on the ${portName(port)} port`, Math.max(0, sent - 1) * 250);
    socket.destroy();
    await done;
  },
);

// 3. SETTINGS and PING floods from a client that never reads the acknowledgements.
let floodTurn = 0;
const pingSettings = loop("PING/SETTINGS flood", 500, "1 connection of up to 10,000 frames / 500 ms", async () => {
  const turn = floodTurn++;
  const port = h2Ports()[turn % 2];
  const [name, each] =
    (turn >> 1) % 2 ? ["PING", frame(FrameType.PING, 0, 0, Buffer.alloc(8))] : ["SETTINGS", frame(FrameType.SETTINGS, 0, 0)];
  const socket = await open(port, "PING/SETTINGS flood");
  if (!socket) return;
  socket.pause();
  deadline(socket, 10_000);
  const gone = new Promise((r) => socket.once("close", r));
  const chunks = function* () {
    yield PREFACE;
    for (let i = 0; i < 10; i++) yield Buffer.concat(Array.from({ length: 1000 }, () => each));
  };
  const sent = await flood(socket, chunks());
  count(`PING/SETTINGS flood: ${name} frames written to the ${portName(port)} port`, Math.max(0, sent - 1) * 1000);
  socket.destroy();
  await gone;
});

// 4. Garbage and truncated gRPC frames on the gRPC and Connect ports, with and without the key.
const garbageBodies: [string, (seed: number) => Buffer][] = [
  ["a field that runs past the end", () => grpcMessage(Buffer.from([0x0a, 0xff, 0xff]))],
  ["declares 100 bytes, sends 3", () => grpcMessage(Buffer.alloc(3), 100)],
  ["compressed flag, no grpc-encoding", (seed) => grpcMessage(randomBytes(seed, 40), 40, true)],
  ["3 random bytes", (seed) => randomBytes(seed + 1, 3)],
  ["declares 4 GiB", () => grpcMessage(Buffer.alloc(0), 0xffffffff)],
  ["200 random bytes", (seed) => grpcMessage(randomBytes(seed + 2, 200))],
];
let garbageSeed = 1;
const garbage = loop("garbage gRPC frames", 100, "6 streams / 100 ms", async () => {
  const seed = garbageSeed++;
  const port = h2Ports()[seed % 2];
  const withKey = seed % 3 !== 0;
  const s = session(port);
  await Promise.all(
    garbageBodies.map(async ([what, body], i) => {
      const headers = {
        ":method": "POST",
        ":path": i % 2 ? HEALTH : FORECAST,
        "content-type": "application/grpc",
        te: "trailers",
        ...(withKey ? { authorization: auth } : {}),
      };
      const answer = await h2Request(s, headers, body(seed * 7), 10_000);
      count(`garbage gRPC frames: ${what}, ${portName(port)} port${withKey ? "" : ", no key"} → ${answer}`);
    }),
  );
  s.destroy();
});

// 5. Reflection with random names and random bytes, v1 and v1alpha: 12 requests and a random message per stream.
const reflectionRequests = (seed: number): Buffer => {
  const r = randomBytes(seed, 64);
  const name = (k: number) => {
    const kinds = [
      "",
      "mlmesh.match.v1.Nope",
      "grpc.health.v1.Health.Nope",
      ".",
      "a".repeat(2000 + r[k]),
      "\u0000\uffff",
      r.subarray(k, k + 24).toString("latin1"),
    ];
    return kinds[r[k] % kinds.length];
  };
  const out: Buffer[] = [];
  for (let k = 0; k < 12; k++) {
    const shapes = [
      { messageRequest: { case: "fileByFilename", value: name(k) } },
      { messageRequest: { case: "fileContainingSymbol", value: name(k) } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: name(k) } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: name(k), extensionNumber: r[k + 1] - 128 } } },
      { messageRequest: { case: "listServices", value: name(k) } },
    ] as const;
    out.push(
      grpcMessage(
        Buffer.from(toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, shapes[r[k + 2] % shapes.length]))),
      ),
    );
  }
  out.push(grpcMessage(randomBytes(seed + 11, 1 + (r[40] % 200))));
  return Buffer.concat(out);
};
let reflectionSeed = 1;
const reflection = loop("reflection fuzzing", 100, "1 stream of 13 requests / 100 ms", async () => {
  const seed = reflectionSeed++;
  const s = session(ports.grpc);
  const version = seed % 2 ? "v1" : "v1alpha";
  const path = `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`;
  const answer = await h2Request(
    s,
    { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" },
    reflectionRequests(seed),
    10_000,
  );
  count(`reflection fuzzing: streams → ${answer}`);
  s.destroy();
});

// 6. HTTP/1.1 slowloris: a header line every 2 s, never the end of the headers.
const slowloris = pool("slowloris", 40, 100, 200, async (worker) => {
  const port = http1Ports()[worker % 3];
  const socket = await open(port, "slowloris");
  if (!socket) return;
  await write(socket, `POST ${postPath(port)} HTTP/1.1\r\nHost: x\r\n`);
  await hold(`slowloris on the ${portName(port)} port`, socket, { everyMs: 2000, send: () => `x-slow-${Date.now() % 1000}: y\r\n` });
});

// 7. Chunked request bodies that never end (a 1-byte chunk every 200 ms), with and without the key.
const endless = pool("never-ending chunked body", 30, 100, 200, async (worker) => {
  const port = http1Ports()[worker % 3];
  const socket = await open(port, "never-ending chunked body");
  if (!socket) return;
  const withKey = worker % 2 === 1;
  const key = withKey ? `authorization: ${auth}\r\n` : "";
  await write(
    socket,
    `POST ${postPath(port)} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n${key}\r\n5\r\n{"a":\r\n`,
  );
  await hold(`never-ending chunked body on the ${portName(port)} port, ${withKey ? "with" : "without"} key`, socket, {
    everyMs: 200,
    send: () => "1\r\n1\r\n",
  });
});

// 8. Oversize bodies on every transport (5 MiB, past the default 4 MiB limit), and an absurd Content-Length.
const BIG = 5 * 1024 * 1024;
let oversizeTurn = 0;
const oversize = loop("oversize body", 250, "1 request / 250 ms, each transport in turn", async () => {
  const kind = oversizeTurn++ % 8;
  if (kind === 0) {
    const s = session(ports.grpc);
    const answer = await h2Request(
      s,
      { ":method": "POST", ":path": FORECAST, "content-type": "application/grpc", te: "trailers", authorization: auth },
      grpcMessage(Buffer.alloc(BIG, 1)),
      10_000,
    );
    count(`oversize body: gRPC 5 MiB message → ${answer}`);
    s.destroy();
    return;
  }
  if (kind === 1) {
    const s = session(ports.connect);
    const answer = await h2Request(
      s,
      { ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/connect+proto" },
      grpcMessage(Buffer.alloc(BIG, 1)),
      10_000,
    );
    count(`oversize body: Connect streaming, a 5 MiB envelope → ${answer}`);
    s.destroy();
    return;
  }
  // Then each HTTP/1.1 port: a 5 MiB body (no Expect: 100-continue), and a Content-Length of a petabyte.
  const port = [ports.gateway, ports.connect, ports.admin][(kind - 2) % 3];
  const head = `POST ${postPath(port)} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: ${auth}\r\nconnection: close\r\n`;
  if (kind >= 5) {
    const answer = await http1(port, "oversize body", `${head}content-length: 999999999999999\r\n\r\n{"a":`);
    if (answer) count(`oversize body: content-length 999999999999999 on the ${portName(port)} port → ${answer}`);
    return;
  }
  const socket = await open(port, "oversize body");
  if (!socket) return;
  deadline(socket, 10_000);
  const done = closed(socket);
  await write(socket, `${head}content-length: ${BIG}\r\n\r\n`);
  await flood(
    socket,
    (function* () {
      for (let i = 0; i < BIG / 65536; i++) yield Buffer.alloc(65536, 0x20);
    })(),
  );
  count(`oversize body: 5 MiB body on the ${portName(port)} port → ${outcome(await done)}`);
});

// 9. A few hundred idle connections: silent TCP on every port, idle HTTP/2 sessions on the HTTP/2 ports.
const idle = pool("idle connections", 300, 10, 1000, async (worker) => {
  const port = allPorts()[worker % 4];
  const socket = await open(port, "idle connections");
  if (!socket) return;
  const h2 = (port === ports.grpc || port === ports.connect) && worker % 8 >= 4;
  if (h2) await write(socket, Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
  await hold(`idle ${h2 ? "HTTP/2 session (preface and SETTINGS)" : "silent TCP"} on the ${portName(port)} port`, socket);
});

// 10. Malformed grpc-timeout / connect-timeout-ms on the gRPC, Connect and REST ports.
const BAD_TIMEOUTS = ["abc", "-1S", "999999999S", "1X", "", "1", "S", "1.5S"];
let timeoutTurn = 0;
const badTimeouts = loop("malformed timeout", 50, "1 request / 50 ms", async () => {
  const turn = timeoutTurn++;
  const value = BAD_TIMEOUTS[turn % BAD_TIMEOUTS.length];
  const where = Math.floor(turn / BAD_TIMEOUTS.length) % 4;
  if (where < 2) {
    const port = h2Ports()[where];
    const s = session(port);
    const answer = await h2Request(
      s,
      { ":method": "POST", ":path": HEALTH, "content-type": "application/grpc", te: "trailers", "grpc-timeout": value },
      grpcMessage(Buffer.alloc(0)),
      10_000,
    );
    count(`malformed timeout: gRPC on the ${portName(port)} port, grpc-timeout ${JSON.stringify(value)} → ${answer}`);
    s.destroy();
    return;
  }
  const port = where === 2 ? ports.connect : ports.gateway;
  const [path, header, body] =
    port === ports.connect
      ? [HEALTH, "connect-timeout-ms", "{}"]
      : ["/forecast/demand", "grpc-timeout", `{"product_id":"x","horizon_days":1}`];
  const answer = await http1(
    port,
    "malformed timeout",
    `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: ${auth}\r\n${header}: ${value}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  if (answer) count(`malformed timeout: HTTP/1.1 on the ${portName(port)} port, ${header} ${JSON.stringify(value)} → ${answer}`);
});

// 11. Header lists far past the limit, and CONTINUATION floods, on the HTTP/2 ports.
let headerTurn = 0;
const hugeHeaders = loop("huge headers / CONTINUATION flood", 250, "1 connection / 250 ms", async () => {
  const turn = headerTurn++;
  const port = h2Ports()[turn % 2];
  const socket = await open(port, "huge headers / CONTINUATION flood");
  if (!socket) return;
  deadline(socket, 10_000);
  const done = closed(socket);
  if ((turn >> 1) % 2) {
    const big: [string, string][] = Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, "v".repeat(100)]);
    const block = Buffer.concat([grpcRequestHeaders(HEALTH), headerBlock(big)]);
    const frames = [PREFACE, frame(FrameType.SETTINGS, 0, 0)];
    for (let offset = 0; offset < block.length; offset += 16_000) {
      const last = offset + 16_000 >= block.length;
      frames.push(
        frame(
          offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION,
          last ? 0x4 | 0x1 : offset === 0 ? 0x1 : 0,
          1,
          block.subarray(offset, offset + 16_000),
        ),
      );
    }
    await write(socket, Buffer.concat(frames));
    socket.end();
    count(`huge headers / CONTINUATION flood: 200 KB header lists sent to the ${portName(port)} port`);
  } else {
    await write(
      socket,
      Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0), frame(FrameType.HEADERS, 0x0, 1, grpcRequestHeaders("/x"))]),
    );
    let batches = 0;
    for (; batches < 50 && !socket.destroyed && running(); batches++) {
      await write(
        socket,
        Buffer.concat(
          Array.from({ length: 200 }, (_, k) => frame(FrameType.CONTINUATION, 0, 1, headerBlock([[`c${batches}-${k}`, "y".repeat(50)]]))),
        ),
      );
    }
    count(
      `huge headers / CONTINUATION flood: CONTINUATION floods on the ${portName(port)} port, ${batches < 50 ? "cut off by the server" : "all 10,000 frames written"}`,
    );
    socket.destroy();
  }
  await done;
});

// The end: whatever is still open is closed, so every loop's pending operation resolves.
const end = setTimeout(() => {
  for (const s of sockets) s.destroy();
  for (const s of sessions) s.destroy();
}, until - Date.now());
let finished = false;
// And the summary goes out 5 s later even if some operation still hangs.
const hardStop = setTimeout(() => finish(), until - Date.now() + 5000);
await Promise.all([
  tcpReset,
  rapidReset,
  pingSettings,
  garbage,
  reflection,
  ...slowloris,
  ...endless,
  oversize,
  ...idle,
  badTimeouts,
  hugeHeaders,
]);
clearTimeout(end);
clearTimeout(hardStop);
finish();

function finish(): void {
  if (finished) return;
  finished = true;
  for (const s of sockets) s.destroy();
  for (const s of sessions) s.destroy();
  const cpu = process.cpuUsage();
  const summary: AbuseSummary = { seconds: (Date.now() - started) / 1000, counts, held, rates, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
}
