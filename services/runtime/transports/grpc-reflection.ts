import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import type { Metadata } from "../context.js";
import type { MeshError } from "../errors.js";
import type { ReflectionIndex } from "../reflection.js";
import type { StreamLimits } from "../stream-limits.js";
import { MetadataReader } from "./grpc.js";

/**
 * Serves reflection v1 and v1alpha (grpcurl tries v1 first, older tools only
 * know v1alpha). The two versions have the same messages field for field, so
 * one set of schemas encodes both. With `admit` (MLMESH_REFLECTION=key), a
 * stream it refuses (it throws a MeshError) ends with that status before any answer.
 */
export function addReflectionToGrpcServer(
  server: grpc.Server,
  index: ReflectionIndex,
  streams: StreamLimits,
  admit?: (headers: Metadata) => void,
): void {
  for (const pkg of ["grpc.reflection.v1", "grpc.reflection.v1alpha"]) {
    const definition: grpc.ServiceDefinition = {
      ServerReflectionInfo: {
        path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        originalName: "serverReflectionInfo",
        requestSerialize: (m: ServerReflectionRequest) => Buffer.from(toBinary(ServerReflectionRequestSchema, m)),
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: ServerReflectionResponse) => Buffer.from(toBinary(ServerReflectionResponseSchema, m)),
        responseDeserialize: (b: Buffer) => fromBinary(ServerReflectionResponseSchema, b),
      },
    };
    const handler: grpc.handleBidiStreamingCall<Buffer, ServerReflectionResponse> = (call) => {
      call.on("error", () => undefined);
      let release: () => void;
      try {
        admit?.(new MetadataReader(call.metadata));
        release = streams.acquire(call.getPeer(), "reflection");
      } catch (err) {
        call.emit("error", { code: (err as MeshError).code, details: (err as MeshError).message });
        return;
      }
      call.once("close", release);
      call.once("cancelled", release);
      call.on("data", (bytes: Buffer) => {
        let request: ServerReflectionRequest;
        try {
          request = fromBinary(ServerReflectionRequestSchema, bytes);
        } catch {
          release();
          call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "malformed reflection request" });
          return;
        }
        // Backpressure: a client that sends requests but does not read answers stops being read.
        if (!call.write(index.answer(request))) {
          call.pause();
          call.once("drain", () => call.resume());
        }
      });
      call.on("end", () => {
        release();
        call.end();
      });
    };
    server.addService(definition, { ServerReflectionInfo: handler });
  }
}
