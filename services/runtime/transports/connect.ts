import type { DescMethod, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { MeshError } from "../errors.js";
import type { BoundMethod, BoundService, IncomingCall } from "../pipeline.js";
import { connectUnaryFastPath } from "./connect-unary.js";

/** The connection a call came on, for the pipeline's per-connection stream caps. */
const peerKey = createContextKey<string | undefined>(undefined, { description: "remote address and port" });

/**
 * Serves bound services for Edge Functions and browsers: Connect's unary
 * calls on a short path of our own (connect-unary.ts), and with connect-node
 * everything else: Connect streaming, gRPC-Web and gRPC. The call itself
 * happens in the shared pipeline either way.
 */
export function connectHandler(services: readonly BoundService[], options: { readMaxBytes: number }) {
  return connectUnaryFastPath(services, options, connectNodeHandler(services, options));
}

/** connect-node: the Connect protocol, gRPC-Web and gRPC; it decodes the request, the pipeline does the rest. */
function connectNodeHandler(services: readonly BoundService[], options: { readMaxBytes: number }) {
  return connectNodeAdapter({
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: options.readMaxBytes,
    writeMaxBytes: options.readMaxBytes,
    contextValues: (req) => createContextValues().set(peerKey, `${req.socket.remoteAddress}:${req.socket.remotePort}`),
    routes(router: ConnectRouter) {
      for (const bound of services) {
        for (const m of bound.methods) router.rpc(m.method as DescMethod, methodImpl(m) as never);
      }
    },
  });
}

function methodImpl(m: BoundMethod) {
  if (m.method.methodKind === "server_streaming") {
    return async function* (request: Message, ctx: HandlerContext) {
      try {
        yield* m.stream(request, incomingCall(ctx));
      } catch (err) {
        throw toConnectError(err);
      }
    };
  }
  return async (request: Message, ctx: HandlerContext) => {
    try {
      return await m.unary(request, incomingCall(ctx));
    } catch (err) {
      throw toConnectError(err);
    }
  };
}

function incomingCall(ctx: HandlerContext): IncomingCall {
  const timeout = ctx.timeoutMs();
  return {
    headers: ctx.requestHeader,
    signal: ctx.signal,
    deadline: timeout === undefined ? undefined : Date.now() + timeout,
    transport: "connect",
    responseHeaders: ctx.responseHeader,
    peer: ctx.values.get(peerKey),
  };
}

function toConnectError(err: unknown): ConnectError {
  if (err instanceof MeshError) return new ConnectError(err.message, err.code as number as Code);
  return new ConnectError("internal error", Code.Internal);
}
