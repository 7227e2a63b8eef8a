import { toJson, type DescField, type DescMessage, type JsonObject, type JsonValue, type Message } from "@bufbuild/protobuf";
import type http from "node:http";
import type { ResponseMetadata } from "../context.js";
import { MeshError } from "../errors.js";
import { decodeJson } from "../json-decode.js";
import { httpRoutes, type HttpRoute } from "../http-rules.js";
import type { BoundMethod, BoundService, IncomingCall } from "../pipeline.js";
import { Status } from "../status.js";

/**
 * The REST surface of the contract's google.api.http rules, served the way
 * Envoy's grpc_json_transcoder serves it (snake_case field names, default
 * values printed, unknown query parameters rejected, gRPC status mapped to
 * HTTP status with a google.rpc.Status body), so local callers see what they
 * would see through the gateway.
 */
export class RestGateway {
  private readonly routes: { route: HttpRoute; bound: BoundMethod }[] = [];

  constructor(
    services: readonly BoundService[],
    private readonly options: { maxBodyBytes: number },
  ) {
    const byMethod = new Map<string, BoundMethod>();
    for (const s of services) for (const m of s.methods) byMethod.set(`${s.service.typeName}/${m.method.name}`, m);
    for (const route of httpRoutes(services.flatMap((s) => s.service.methods))) {
      const bound = byMethod.get(`${route.method.parent.typeName}/${route.method.name}`);
      if (bound) this.routes.push({ route, bound });
    }
  }

  /** The bindings served, for the OpenAPI document and the startup log. */
  get bindings(): readonly HttpRoute[] {
    return this.routes.map((r) => r.route);
  }

  handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void this.serve(req, res).catch((err) => {
      const mesh = err instanceof MeshError ? err : new MeshError(Status.INTERNAL, "internal error");
      if (!res.headersSent) sendError(res, mesh);
      else res.destroy();
    });
  };

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw new MeshError(Status.INVALID_ARGUMENT, "the request path is not valid percent-encoded UTF-8");
    }
    let pathMatched = false;
    for (const { route, bound } of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.verb !== req.method) continue;
      const call = incomingCall(req, res);
      // Before the body: a client without a key must not make us buffer megabytes.
      bound.admit(call.headers);
      const json = await this.requestJson(route, m, url, req);
      const input = route.method.input;
      const decode = () => decodeJson(input, json as JsonValue);
      if (route.method.methodKind === "server_streaming") {
        await streamJson(res, route, bound.stream(decode, call), call);
        return;
      }
      const response = await bound.unary(decode, call).catch((err: unknown) => {
        // An error answer names the call's trace as a success does (gRPC sends it as metadata either way).
        if (!res.headersSent)
          call.responseHeaders.forEach((v, k) => {
            res.setHeader(k, v);
          });
        throw err;
      });
      sendJson(res, 200, printResponse(route, response), call.responseHeaders);
      return;
    }
    const code = pathMatched ? Status.UNIMPLEMENTED : Status.NOT_FOUND;
    const message = pathMatched ? `method ${req.method} not allowed for ${path}` : `no route for ${req.method} ${path}`;
    sendError(res, new MeshError(code, message), pathMatched ? 405 : 404);
  }

  private async requestJson(route: HttpRoute, match: RegExpExecArray, url: URL, req: http.IncomingMessage): Promise<JsonObject> {
    let json: JsonObject = {};
    if (route.body) {
      const text = await readBody(req, this.options.maxBodyBytes);
      let parsed: unknown = {};
      if (text.trim()) {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new MeshError(Status.INVALID_ARGUMENT, "request body is not valid JSON");
        }
      }
      if (route.body === "*") {
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw new MeshError(Status.INVALID_ARGUMENT, "request body must be a JSON object");
        }
        json = parsed as JsonObject;
      } else {
        json[route.body] = parsed as JsonValue;
      }
    } else {
      json = queryToJson(route.method.input, url.searchParams);
    }
    route.variables.forEach((field, i) => {
      setPath(json, field, match[i + 1]);
    });
    return json;
  }
}

function incomingCall(req: http.IncomingMessage, res: http.ServerResponse): IncomingCall {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  }
  const controller = new AbortController();
  // The client went away: the response closed before it was finished (a request's own 'close'
  // only says that its body has been read).
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const timeout = headers.get("grpc-timeout");
  return {
    headers,
    signal: controller.signal,
    deadline: timeout === null ? undefined : Date.now() + parseGrpcTimeout(timeout),
    transport: "rest",
    responseHeaders: new Headers(),
    peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
  };
}

/** A grpc-timeout header (gRPC's TimeoutValue TimeoutUnit: 1 to 8 digits, then H, M, S, m, u or n) in ms. */
function parseGrpcTimeout(value: string): number {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) {
    throw new MeshError(Status.INVALID_ARGUMENT, "grpc-timeout header: must be 1 to 8 digits followed by one of H, M, S, m, u, n");
  }
  const n = Number(m[1]);
  const unit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[m[2] as "H"];
  return n * unit;
}

/** Query parameters become fields: `a.b=1` sets a nested field; repeats make a list. */
function queryToJson(schema: DescMessage, params: URLSearchParams): JsonObject {
  const json: JsonObject = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    const field = resolveField(schema, key);
    if (!field) throw new MeshError(Status.INVALID_ARGUMENT, `unknown query parameter: ${key}`);
    const typed = values.map((v) => (field.scalarBool ? v === "true" || v === "1" : v));
    setPath(json, key, field.repeated ? typed : typed[typed.length - 1]);
  }
  return json;
}

function resolveField(schema: DescMessage, path: string): { repeated: boolean; scalarBool: boolean } | undefined {
  let current: DescMessage | undefined = schema;
  const parts = path.split(".");
  for (let i = 0; i < parts.length; i++) {
    const f: DescField | undefined = current?.fields.find((x) => x.name === parts[i] || x.jsonName === parts[i]);
    if (!f) return undefined;
    if (i === parts.length - 1) {
      return { repeated: f.fieldKind === "list", scalarBool: f.fieldKind === "scalar" && f.scalar === 8 };
    }
    current = f.fieldKind === "message" ? f.message : undefined;
  }
  return undefined;
}

function setPath(json: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split(".");
  let obj = json;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = obj[parts[i]];
    if (typeof next !== "object" || next === null || Array.isArray(next)) obj[parts[i]] = {};
    obj = obj[parts[i]] as JsonObject;
  }
  obj[parts[parts.length - 1]] = value;
}

const printOptions = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

function printResponse(route: HttpRoute, response: Message): JsonValue {
  const output = route.method.output;
  const json = toJson(output, response as never, printOptions) as JsonObject;
  if (!route.responseBody) return json;
  const field = output.fields.find((f) => f.name === route.responseBody);
  return json[field?.name ?? route.responseBody] ?? {};
}

async function streamJson(res: http.ServerResponse, route: HttpRoute, stream: AsyncIterable<Message>, call: IncomingCall): Promise<void> {
  // Envoy's transcoder streams a server-streaming response as one JSON array.
  let first = true;
  try {
    for await (const message of stream) {
      if (first) {
        res.writeHead(200, { "content-type": "application/json", ...headerObject(call.responseHeaders) });
        res.write("[");
      }
      const more = res.write((first ? "" : ",") + JSON.stringify(printResponse(route, message)));
      first = false;
      // Backpressure: a client that does not read stops the stream instead of growing our buffer.
      if (!more) await drained(res, call.signal);
    }
    if (first) res.writeHead(200, { "content-type": "application/json", ...headerObject(call.responseHeaders) }).write("[");
    res.end("]");
  } catch (err) {
    if (first) throw err;
    // Mid-stream failure: the status is already 200, so append the error as Envoy does.
    const mesh = err instanceof MeshError ? err : new MeshError(Status.INTERNAL, "internal error");
    res.end(`,${JSON.stringify({ code: mesh.code, message: mesh.message, details: [] })}]`);
  }
}

function drained(res: http.ServerResponse, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A request body too large for the limit: RESOURCE_EXHAUSTED, sent as HTTP 413. */
class BodyTooLarge extends MeshError {
  constructor(max: number) {
    super(Status.RESOURCE_EXHAUSTED, `request body larger than ${max} bytes`);
  }
}

function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  // A declared length past the limit is refused before a byte of it is read.
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > max) return Promise.reject(new BodyTooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge(max));
        // Stop reading; the 413 goes out with `connection: close`, which ends the socket after it.
        req.removeAllListeners("data");
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** gRPC status to HTTP status, as Envoy and grpc-gateway map it. */
export function httpStatusOf(code: Status): number {
  switch (code) {
    case Status.OK:
      return 200;
    case Status.CANCELLED:
      return 499;
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.OUT_OF_RANGE:
      return 400;
    case Status.DEADLINE_EXCEEDED:
      return 504;
    case Status.NOT_FOUND:
      return 404;
    case Status.ALREADY_EXISTS:
    case Status.ABORTED:
      return 409;
    case Status.PERMISSION_DENIED:
      return 403;
    case Status.UNAUTHENTICATED:
      return 401;
    case Status.RESOURCE_EXHAUSTED:
      return 429;
    case Status.UNIMPLEMENTED:
      return 501;
    case Status.UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

function sendError(
  res: http.ServerResponse,
  err: MeshError,
  httpStatus = err instanceof BodyTooLarge ? 413 : httpStatusOf(err.code),
): void {
  // The rest of an oversize body stays unread, so this connection cannot carry another request.
  if (err instanceof BodyTooLarge) res.setHeader("connection", "close");
  sendJson(res, httpStatus, { code: err.code, message: err.message, details: [] }, new Headers());
}

function sendJson(res: http.ServerResponse, status: number, body: JsonValue, headers: ResponseMetadata): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headerObject(headers),
  });
  res.end(text);
}

function headerObject(headers: ResponseMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}
