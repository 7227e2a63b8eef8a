import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import type { ReflectionIndex } from "../reflection.js";

/**
 * Serves reflection v1 and v1alpha (grpcurl tries v1 first, older tools only
 * know v1alpha). The two versions have the same messages field for field, so
 * one set of schemas encodes both.
 */
export function addReflectionToGrpcServer(server: grpc.Server, index: ReflectionIndex): void {
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
      call.on("data", (bytes: Buffer) => {
        let request: ServerReflectionRequest;
        try {
          request = fromBinary(ServerReflectionRequestSchema, bytes);
        } catch {
          call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "malformed reflection request" });
          return;
        }
        call.write(index.answer(request));
      });
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    };
    server.addService(definition, { ServerReflectionInfo: handler });
  }
}
