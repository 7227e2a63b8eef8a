import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflectionRequestSchema, ServerReflectionResponseSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

/** Lists services over reflection v1: the names, or the status the stream ended with. */
function listServices(client: RawGrpcClient, metadata: Record<string, string> = {}): Promise<string[] | { code: number; details: string }> {
  return new Promise((resolve) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    const call = client.client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (b: Buffer) => b,
      (b: Buffer) => b,
      md,
    );
    const names: string[] = [];
    call.on("data", (b: Buffer) => {
      const res = fromBinary(ServerReflectionResponseSchema, b);
      if (res.messageResponse.case === "listServicesResponse") names.push(...res.messageResponse.value.service.map((s) => s.name));
    });
    call.on("error", (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    call.on("end", () => resolve(names));
    call.write(
      Buffer.from(
        toBinary(
          ServerReflectionRequestSchema,
          create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }),
        ),
      ),
    );
    call.end();
  });
}

describe("MLMESH_REFLECTION", () => {
  const running: { mesh: Mesh; client: RawGrpcClient }[] = [];
  afterAll(async () => {
    for (const r of running) {
      r.client.close();
      await r.mesh.shutdown();
    }
  });
  async function start(mode: string): Promise<RawGrpcClient> {
    const { mesh } = await startTestMesh([slowForecastArea], { MLMESH_REFLECTION: mode });
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`, { "grpc.use_local_subchannel_pool": 1 });
    running.push({ mesh, client });
    return client;
  }

  it("off: reflection is not served (UNIMPLEMENTED), health still answers without a key", async () => {
    const client = await start("off");
    expect(await listServices(client, { authorization: `Bearer ${TEST_KEY}` })).toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    expect((await client.unary(Health.method.check, { service: "" })).response.status).toBe(1);
  });

  it("key: reflection needs a valid key (any scope)", async () => {
    const client = await start("key");
    expect(await listServices(client)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining("missing API key"),
    });
    expect(await listServices(client, { authorization: "Bearer not-a-valid-key-xxxxxxxx" })).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    expect(await listServices(client, { authorization: `Bearer ${TEST_KEY}` })).toContain("mlmesh.forecast.v1.ForecastService");
    expect((await client.unary(Health.method.check, { service: "" })).response.status).toBe(1);
  });

  it("on (the default): reflection needs no key", async () => {
    const client = await start("on");
    expect(await listServices(client)).toContain("mlmesh.forecast.v1.ForecastService");
  });
});
