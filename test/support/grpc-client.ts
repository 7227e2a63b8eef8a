import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/**
 * Calls the mesh with @grpc/grpc-js's own client: an independent gRPC
 * implementation from the one connect-es ships, talking raw HTTP/2 frames.
 */
export class RawGrpcClient {
  readonly client: grpc.Client;

  constructor(address: string, options: grpc.ClientOptions = {}) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), options);
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    options: { metadata?: Record<string, string>; deadlineMs?: number; onCall?: (call: grpc.ClientUnaryCall) => void } = {},
  ): Promise<{ response: MessageShape<O>; headers: grpc.Metadata }> {
    return this.raw(method, Buffer.from(toBinary(method.input, create(method.input, request))), options).then(({ bytes, headers }) => ({
      response: fromBinary(method.output, bytes) as MessageShape<O>,
      headers,
    }));
  }

  /** Sends these exact bytes as the request message. */
  raw(
    method: DescMethod,
    bytes: Buffer,
    options: { metadata?: Record<string, string>; deadlineMs?: number; onCall?: (call: grpc.ClientUnaryCall) => void } = {},
  ): Promise<{ bytes: Buffer; headers: grpc.Metadata }> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
    const callOptions: grpc.CallOptions = {};
    if (options.deadlineMs !== undefined) callOptions.deadline = Date.now() + options.deadlineMs;
    return new Promise((resolve, reject) => {
      let headers = new grpc.Metadata();
      const call = this.client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        md,
        callOptions,
        (err, value) => (err ? reject(err) : resolve({ bytes: value!, headers })),
      );
      call.on("metadata", (m) => (headers = m));
      options.onCall?.(call);
    });
  }

  close(): void {
    this.client.close();
  }
}
