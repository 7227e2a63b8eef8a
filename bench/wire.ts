import net from "node:net";

/*
 * Raw HTTP/2 and TCP helpers for hostile clients: the soak's abuse
 * (bench/soak-abuse.ts) and the hostile-client suite (test/hostile/) both use them.
 */

/** The HTTP/2 client connection preface. */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

/** One raw HTTP/2 frame: 9-byte header, then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK header block of literal fields without indexing (no Huffman, no table): valid for any decoder. */
export function headerBlock(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  const int = (value: number, prefixBits: number, first: number): Buffer => {
    const max = (1 << prefixBits) - 1;
    if (value < max) return Buffer.from([first | value]);
    const bytes = [first | max];
    value -= max;
    while (value >= 128) {
      bytes.push((value % 128) + 128);
      value = Math.floor(value / 128);
    }
    bytes.push(value);
    return Buffer.from(bytes);
  };
  for (const [name, value] of headers) {
    parts.push(
      Buffer.from([0x00]),
      int(Buffer.byteLength(name), 7, 0),
      Buffer.from(name),
      int(Buffer.byteLength(value), 7, 0),
      Buffer.from(value),
    );
  }
  return Buffer.concat(parts);
}

/** Request headers of a gRPC call on `path`. */
export function grpcRequestHeaders(path: string, extra: [string, string][] = []): Buffer {
  return headerBlock([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ]);
}

/** A length-prefixed gRPC message frame (flag byte, 4-byte length, then the bytes). */
export function grpcMessage(bytes: Buffer, declaredLength = bytes.length, compressed = false): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(compressed ? 1 : 0, 0);
  prefix.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([prefix, bytes]);
}

/**
 * Opens a TCP connection to 127.0.0.1; resolves once connected, rejects
 * (ETIMEDOUT) if that takes longer than `timeoutMs`: a server whose accept
 * queue is full leaves a connect pending for minutes. Later errors are
 * swallowed: the server may reset us.
 */
export function connect(port: number, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      clearTimeout(timer);
      socket.off("error", fail);
      socket.on("error", () => undefined);
      resolve(socket);
    });
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(
      () => {
        socket.on("error", () => undefined);
        socket.destroy();
        reject(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" }));
      },
      Math.max(1, timeoutMs),
    );
    socket.once("error", fail);
  });
}

/** Resolves when the socket closes (the server hung up, or we did), with whatever the server sent if we read. */
export function closed(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    const done = () => resolve(Buffer.concat(chunks));
    if (socket.destroyed) done();
    socket.once("close", done);
  });
}

/** Writes, ignoring a server that already hung up. */
export function write(socket: net.Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.write(bytes, () => resolve());
  });
}

/** Deterministic pseudo-random bytes, so a run can be replayed. */
export function randomBytes(seed: number, length: number): Buffer {
  let s = seed >>> 0 || 1;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/**
 * Writes chunks while the server reads them. Stops early when the server
 * stops reading (backpressure: a write that would only queue in our memory)
 * or hangs up; resolves with how many chunks went out.
 */
export async function flood(socket: net.Socket, chunks: Iterable<Buffer>): Promise<number> {
  let sent = 0;
  for (const chunk of chunks) {
    if (socket.destroyed || !socket.writable) break;
    sent++;
    if (!socket.write(chunk)) {
      const drained = await new Promise<boolean>((resolve) => {
        const onDrain = () => {
          cleanup();
          resolve(true);
        };
        const onClose = () => {
          cleanup();
          resolve(false);
        };
        const cleanup = () => {
          socket.off("drain", onDrain);
          socket.off("close", onClose);
          socket.off("end", onClose);
        };
        socket.once("drain", onDrain);
        socket.once("close", onClose);
        socket.once("end", onClose);
      });
      if (!drained) break;
    }
  }
  return sent;
}
