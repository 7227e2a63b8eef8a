import { fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { Metadata, ResponseMetadata } from "../context.js";
import { MeshError } from "../errors.js";
import type { BoundMethod, BoundService, IncomingCall } from "../pipeline.js";

/**
 * Serves bound services on @grpc/grpc-js. grpc-js wants service definitions
 * built for protobufjs; we build them from the protobuf-es descriptors instead,
 * and hand grpc-js the request bytes untouched so that decoding happens inside
 * the pipeline, where a malformed message becomes INVALID_ARGUMENT.
 */
export function addToGrpcServer(server: grpc.Server, bound: BoundService): void {
  const definition: Record<string, grpc.MethodDefinition<Message | Buffer, Message>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const m of bound.methods) {
    const { method } = m;
    const streamingResponse = method.methodKind === "server_streaming";
    if (method.methodKind !== "unary" && !streamingResponse) {
      throw new Error(`${method.parent.typeName}/${method.name}: only unary and server-streaming methods go through the pipeline`);
    }
    definition[method.name] = {
      path: `/${bound.service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: streamingResponse,
      originalName: method.localName,
      requestSerialize: (value: Message | Buffer) => (Buffer.isBuffer(value) ? value : asBuffer(toBinary(method.input, value))),
      requestDeserialize: (bytes: Buffer): Message | Buffer => bytes,
      responseSerialize: (value: Message) => asBuffer(toBinary(method.output, value)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
    implementation[method.name] = streamingResponse ? serverStreamingHandler(m) : unaryHandler(m);
  }
  server.addService(definition, implementation);
}

function unaryHandler(m: BoundMethod): grpc.handleUnaryCall<Buffer, Message> {
  const input = m.method.input;
  return (call, callback) => {
    const incoming = incomingCall(call);
    m.unary(decoder(input, call.request), incoming).then(
      (response) => {
        finished.add(call);
        call.sendMetadata(toMetadata(incoming.responseHeaders));
        callback(null, response);
      },
      (err: MeshError) => {
        finished.add(call);
        callback(toServiceError(err, incoming.responseHeaders));
      },
    );
  };
}

function serverStreamingHandler(m: BoundMethod): grpc.handleServerStreamingCall<Buffer, Message> {
  const input = m.method.input;
  return (call) => {
    const incoming = incomingCall(call);
    void (async () => {
      let sentHeaders = false;
      try {
        for await (const response of m.stream(decoder(input, call.request), incoming)) {
          if (!sentHeaders) {
            call.sendMetadata(toMetadata(incoming.responseHeaders));
            sentHeaders = true;
          }
          if (call.cancelled) break;
          if (!call.write(response)) await new Promise<void>((resolve) => call.once("drain", resolve));
        }
        finished.add(call);
        if (!call.cancelled) call.end();
      } catch (err) {
        finished.add(call);
        if (!call.cancelled) call.emit("error", toServiceError(err as MeshError, incoming.responseHeaders));
      }
    })();
  };
}

/** Calls already answered, whose late "cancelled" event means nothing. */
const finished = new WeakSet<object>();

function decoder(schema: DescMessage, bytes: Buffer): () => Message {
  return () => fromBinary(schema, bytes);
}

function incomingCall(call: grpc.ServerUnaryCall<Buffer, Message> | grpc.ServerWritableStream<Buffer, Message>): IncomingCall {
  // The controller is built only when the pipeline asks for the signal (most small calls never do).
  let controller: AbortController | undefined;
  let cancelled = false;
  // grpc-js emits "cancelled" at the end of every call, finished or not; only
  // for a call we have not answered is it the client going away.
  call.once("cancelled", () => {
    if (finished.has(call)) return;
    cancelled = true;
    controller?.abort();
  });
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return {
    headers: new MetadataReader(call.metadata),
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (cancelled) controller.abort();
      }
      return controller.signal;
    },
    deadline: Number.isFinite(ms) ? ms : undefined,
    transport: "grpc",
    responseHeaders: new Map<string, string>(),
    get peer() {
      return call.getPeer();
    },
  };
}

/** grpc-js metadata read in place: copying it into a fetch Headers costs more than the rest of a small call. */
export class MetadataReader implements Metadata {
  constructor(private readonly md: grpc.Metadata) {}
  get(name: string): string | null {
    const values = this.md.get(name);
    return values.length && typeof values[0] === "string" ? values[0] : null;
  }
  keys(): string[] {
    return Object.keys(this.md.getMap()).filter((k) => !k.endsWith("-bin"));
  }
}

function toMetadata(headers: ResponseMetadata): grpc.Metadata {
  const md = new grpc.Metadata();
  headers.forEach((value, key) => {
    md.set(key, value);
  });
  return md;
}

function toServiceError(err: MeshError, headers: ResponseMetadata): Partial<grpc.StatusObject> {
  const code = err instanceof MeshError ? err.code : grpc.status.INTERNAL;
  const details = err instanceof MeshError ? err.message : "internal error";
  return { code, details, metadata: toMetadata(headers) };
}

/** grpc-js writes Buffers; a bare Uint8Array is rejected, so wrap without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
