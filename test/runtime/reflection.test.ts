import { createFileRegistry, create, fromBinary, fromJson, toBinary, toJson, type DescMethod } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

/** What grpcurl does: ask the server for its schema over reflection, then call by name with JSON. */
describe("the grpcurl path: reflection and health", () => {
  let mesh: Mesh;
  let client: RawGrpcClient;
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([slowForecastArea]));
    client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`);
  });
  afterAll(async () => {
    client?.close();
    await mesh?.shutdown();
  });

  function reflect(version: "v1" | "v1alpha", requests: object[]): Promise<ServerReflectionResponse[]> {
    return new Promise((resolve, reject) => {
      const call = client.client.makeBidiStreamRequest(
        `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      const out: ServerReflectionResponse[] = [];
      call.on("data", (b: Buffer) => out.push(fromBinary(ServerReflectionResponseSchema, b)));
      call.on("error", reject);
      call.on("end", () => resolve(out));
      for (const r of requests) call.write(Buffer.from(toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, r))));
      call.end();
    });
  }

  for (const version of ["v1", "v1alpha"] as const) {
    it(`lists services over reflection ${version}`, async () => {
      const [res] = await reflect(version, [{ messageRequest: { case: "listServices", value: "" } }]);
      expect(res.messageResponse.case).toBe("listServicesResponse");
      const names = res.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service.map((s) => s.name) : [];
      expect(names).toEqual(expect.arrayContaining(["mlmesh.forecast.v1.ForecastService", "grpc.health.v1.Health"]));
    });
  }

  it("rebuilds the descriptors from the file containing a symbol and invokes a method from JSON", async () => {
    const [res] = await reflect("v1", [{ messageRequest: { case: "fileContainingSymbol", value: "mlmesh.forecast.v1.ForecastService" } }]);
    expect(res.messageResponse.case).toBe("fileDescriptorResponse");
    if (res.messageResponse.case !== "fileDescriptorResponse") return;
    const files = res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    expect(files[0].name).toBe("mlmesh/forecast/v1/forecast_service.proto");
    // Dependencies come along, so the set is complete (grpcurl would otherwise ask again).
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: dependenciesFirst(files) }));
    const service = registry.getService("mlmesh.forecast.v1.ForecastService");
    const method = service!.methods.find((m) => m.name === "ForecastDemand") as DescMethod;
    const request = fromJson(method.input, { product_id: "by-reflection", horizon_days: 4 });
    const { bytes } = await client.raw(method, Buffer.from(toBinary(method.input, request)), {
      metadata: { authorization: `Bearer ${TEST_KEY}` },
    });
    const json = toJson(method.output, fromBinary(method.output, bytes), { useProtoFieldName: true });
    expect(json).toMatchObject({ product_id: "by-reflection", horizon_days: 4 });
  });

  it("answers a missing symbol with an error response, not a broken stream", async () => {
    const [res] = await reflect("v1", [{ messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" } }]);
    expect(res.messageResponse.case).toBe("errorResponse");
  });

  it("serves grpc.health.v1 Watch: current status first, then changes", async () => {
    const call = client.client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(
        toBinary(Health.method.watch.input, create(Health.method.watch.input, { service: "mlmesh.forecast.v1.ForecastService" })),
      ),
    );
    // Each update is awaited as it arrives, however long that takes; the test's timeout is the bound.
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const waiters = new Set<() => void>();
    const received = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (seen.length < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    call.on("data", (b: Buffer) => {
      seen.push(fromBinary(Health.method.watch.output, b).status);
      waiters.forEach((check) => {
        check();
      });
    });
    call.on("error", () => undefined);
    try {
      await received(1);
      expect(seen).toEqual([HealthCheckResponse_ServingStatus.SERVING]);
      mesh.health.set("mlmesh.forecast.v1.ForecastService", HealthCheckResponse_ServingStatus.NOT_SERVING);
      await received(2);
      expect(seen).toEqual([HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING]);
    } finally {
      mesh.health.set("mlmesh.forecast.v1.ForecastService", HealthCheckResponse_ServingStatus.SERVING);
      call.cancel();
    }
  });

  it("reports SERVICE_UNKNOWN on Watch for an unknown service", async () => {
    const first = await new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) => {
      const call = client.client.makeServerStreamRequest(
        "/grpc.health.v1.Health/Watch",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(toBinary(Health.method.watch.input, create(Health.method.watch.input, { service: "nope" }))),
      );
      call.on("data", (b: Buffer) => {
        resolve(fromBinary(Health.method.watch.output, b).status);
        call.cancel();
      });
      call.on("error", (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
    });
    expect(first).toBe(HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN);
  });
});

/** Orders files so each comes after its imports, as a FileDescriptorSet is built. */
function dependenciesFirst(files: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const out: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (f: FileDescriptorProto) => {
    if (done.has(f.name)) return;
    done.add(f.name);
    for (const d of f.dependency) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    out.push(f);
  };
  files.forEach(visit);
  return out;
}
