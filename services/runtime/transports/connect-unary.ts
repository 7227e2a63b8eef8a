import { fromBinary, toBinary, toJsonString, type DescMethod, type JsonValue, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressionNegotiate } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout } from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type http from "node:http";
import type http2 from "node:http2";
import type { Metadata } from "../context.js";
import { MeshError } from "../errors.js";
import { decodeJson } from "../json-decode.js";
import { checkJsonEnumNames } from "../json-enums.js";
import type { BoundMethod, BoundService, IncomingCall } from "../pipeline.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (req: Request, res: Response) => void;

/** connect-node's unary content types (contentTypeUnaryRegExp), with the JSON one captured. */
const UNARY_CONTENT_TYPE = /^application\/(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;
/** What connectNodeAdapter accepts by default, in its order of preference. */
const COMPRESSIONS = [compressionGzip, compressionBrotli];
/** connect's default compressMinBytes: smaller answers are not worth compressing. */
const COMPRESS_MIN_BYTES = 1024;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/**
 * Connect's unary protocol (POST, application/proto or application/json) on
 * a short path, as the REST gateway serves its calls: the body is read with
 * plain stream events and the answer written once, with no per-call web
 * Headers, AbortControllers or async generators (where connect-node spends a
 * call's time). What a client sees is connect-node's answer: its timeout
 * and compression negotiation, limits, error JSON and HTTP statuses (the
 * functions are connect's own), except that the API key is checked before the
 * body is read, as on REST. Everything else (GET,
 * streaming, gRPC, gRPC-Web, unknown paths and content types) goes to
 * `fallback`, connect-node. The call itself goes through the pipeline like
 * every transport's; decoding happens inside it, so an undecodable body
 * answers INVALID_ARGUMENT (connect-node said INTERNAL for binary), and a JSON
 * enum name the enum lacks is named instead of silently becoming 0.
 */
export function connectUnaryFastPath(services: readonly BoundService[], options: { readMaxBytes: number }, fallback: Handler): Handler {
  const routes = new Map<string, BoundMethod>();
  for (const s of services) {
    for (const m of s.methods) if (m.method.methodKind === "unary") routes.set(`/${s.service.typeName}/${m.method.name}`, m);
  }
  const limit = options.readMaxBytes;
  return (req, res) => {
    if (req.method !== "POST") return fallback(req, res);
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const bound = routes.get(query < 0 ? url : url.slice(0, query));
    const type = bound && UNARY_CONTENT_TYPE.exec(req.headers["content-type"] ?? "");
    if (!bound || !type) return fallback(req, res);
    void serve(bound, type[1] === undefined, req, res, limit).catch(() => {
      // Only writing the answer can fail here (the client is gone): nothing left to tell anyone.
      res.destroy();
    });
  };
}

async function serve(bound: BoundMethod, binary: boolean, req: Request, res: Response, limit: number): Promise<void> {
  const headers = new NodeHeaders(req.headers);
  const call = new ConnectCall(headers, res);
  const compression = compressionNegotiate(
    COMPRESSIONS,
    headers.get("content-encoding"),
    headers.get("accept-encoding"),
    "Accept-Encoding",
  );
  let contentType = binary ? "application/proto" : "application/json";
  let status = 200;
  let body: Uint8Array;
  let unread = true;
  try {
    if (compression.error) throw compression.error;
    const timeout = parseTimeout(headers.get("connect-timeout-ms"), Number.MAX_SAFE_INTEGER);
    if (timeout.error) throw timeout.error;
    if (timeout.timeoutMs !== undefined) call.deadline = Date.now() + timeout.timeoutMs;
    // Before the body, as the REST gateway does: a client without a key must not make us buffer megabytes.
    bound.admit(headers);
    let bytes = await readBody(req, limit);
    unread = false;
    if (compression.request) bytes = await compression.request.decompress(bytes, limit);
    const input = bytes;
    const output = await bound.unary(() => decode(bound.method, binary, input), call);
    body = binary ? toBinary(bound.method.output, output) : textEncoder.encode(toJsonString(bound.method.output, output));
    if (body.byteLength > limit) {
      throw new ConnectError(`message size ${body.byteLength} is larger than configured writeMaxBytes ${limit}`, Code.ResourceExhausted);
    }
  } catch (err) {
    const error =
      err instanceof ConnectError
        ? err
        : err instanceof MeshError
          ? new ConnectError(err.message, err.code as number as Code)
          : new ConnectError("internal error", Code.Internal);
    status = codeToHttpStatus(error.code);
    contentType = "application/json";
    error.metadata.forEach((value, key) => {
      call.responseHeaders.set(key, value);
    });
    body = errorToJsonBytes(error, undefined);
  }
  const out: Record<string, string> = {};
  call.responseHeaders.forEach((value, key) => {
    out[key] = value;
  });
  out["content-type"] = contentType;
  if (compression.response && body.byteLength >= COMPRESS_MIN_BYTES) {
    body = await compression.response.compress(body);
    out["content-encoding"] = compression.response.name;
  }
  out["content-length"] = String(body.byteLength);
  // The rest of a body we did not read (refused before, or past the limit) cannot be followed by another request.
  if (unread && req.httpVersionMajor === 1 && !req.complete) out.connection = "close";
  call.responded = true;
  (res as http.ServerResponse).writeHead(status, out);
  (res as http.ServerResponse).end(body);
}

/** The request as its method's input: binary or JSON, unknown fields ignored as connect-node ignores them. */
function decode(method: DescMethod, binary: boolean, bytes: Uint8Array): Message {
  if (binary) return fromBinary(method.input, bytes);
  const text = textDecoder.decode(bytes);
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new Error(`the body is not JSON: ${(err as Error).message}`);
  }
  checkJsonEnumNames(method.input, json);
  return decodeJson(method.input, json, { ignoreUnknownFields: true });
}

/**
 * The whole body, as connect's readAllBytes reads it: a declared length past
 * the limit is refused before a byte is read, and a body that breaks its
 * declared length is a protocol error.
 */
function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const header = req.headers["content-length"];
  const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > limit) {
    return Promise.reject(
      new ConnectError(`message size ${declared} is larger than configured readMaxBytes ${limit}`, Code.ResourceExhausted),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: ConnectError) => {
      req.removeListener("data", onData);
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (declared !== undefined && size > declared)
        return stop(new ConnectError(`protocol error: promised ${declared} bytes, received ${size}`, Code.InvalidArgument));
      if (size > limit)
        return stop(new ConnectError(`message size is larger than configured readMaxBytes ${limit}`, Code.ResourceExhausted));
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      if (declared !== undefined && size < declared)
        reject(new ConnectError(`protocol error: promised ${declared} bytes, received ${size}`, Code.InvalidArgument));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.once("error", () => reject(new ConnectError("the request was aborted", Code.Canceled)));
    // A client that goes away mid-body: no 'end' will come.
    req.once("close", () => {
      if (!req.complete) reject(new ConnectError("the request was aborted", Code.Canceled));
    });
  });
}

/** Request headers as the pipeline reads them, straight from Node's object (HTTP/2 pseudo-headers left out). */
class NodeHeaders implements Metadata {
  constructor(private readonly raw: http.IncomingHttpHeaders) {}

  get(name: string): string | null {
    const key = name.toLowerCase();
    if (key.startsWith(":")) return null;
    const value = this.raw[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  }

  *keys(): Iterable<string> {
    for (const k of Object.keys(this.raw)) if (!k.startsWith(":")) yield k;
  }
}

/**
 * One Connect call as the pipeline sees it. Its cancellation signal is built
 * only if something asks for it (a deadline, a handler that waits on it): an
 * AbortController per call shows in profiles.
 */
class ConnectCall implements IncomingCall {
  readonly transport = "connect" as const;
  readonly responseHeaders = new Map<string, string>();
  deadline: number | undefined;
  /** Set just before the answer is written: a close after that is no cancellation. */
  responded = false;
  private controller: AbortController | undefined;

  constructor(
    readonly headers: Metadata,
    private readonly res: Response,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      const res = this.res;
      const gone = "stream" in res ? res.stream.destroyed : res.destroyed;
      if (gone) controller.abort();
      else
        res.once("close", () => {
          if (!this.responded) controller.abort();
        });
    }
    return this.controller.signal;
  }

  get peer(): string {
    const socket = this.res.socket;
    return `${socket?.remoteAddress}:${socket?.remotePort}`;
  }
}
