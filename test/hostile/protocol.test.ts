import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { testScope } from "../support/scope.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { MeshProcess } from "./mesh-process.js";
import {
  closed,
  connect,
  flood,
  frame,
  FrameType,
  grpcMessage,
  grpcRequestHeaders,
  headerBlock,
  PREFACE,
  randomBytes,
  write,
} from "../../bench/wire.js";

/**
 * A hostile client against the real `mlmesh serve` process, below the RPC
 * layer: reflection, raw TCP, raw gRPC frames and HTTP/2 abuse. After every
 * case the process must be alive, every port must answer, and nothing may
 * have reached the last-resort handler.
 */
describe("hostile clients: reflection, TCP, gRPC frames, HTTP/2", () => {
  let mesh: MeshProcess;
  beforeAll(async () => {
    mesh = await MeshProcess.start({
      ...(await testScope()).env,
      MLMESH_MAX_WATCHES_PER_CONNECTION: "8",
      MLMESH_MAX_WATCHES: "64",
      MLMESH_HEADERS_TIMEOUT_MS: "1000",
      MLMESH_MAX_MESSAGE_BYTES: String(64 * 1024),
    });
  });
  afterAll(async () => mesh?.stop());

  const allPorts = () => Object.entries(mesh.ports) as [string, number][];

  /** Sends raw reflection requests on one stream; resolves with the answers and how the stream ended. */
  function reflect(version: "v1" | "v1alpha", requests: Buffer[]): Promise<{ answers: number; code: number }> {
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`, { "grpc.use_local_subchannel_pool": 1 });
    return new Promise((resolve) => {
      const call = client.client.makeBidiStreamRequest(
        `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        new grpc.Metadata(),
        { deadline: Date.now() + 30_000 },
      );
      let answers = 0;
      call.on("data", () => answers++);
      call.on("status", (s: grpc.StatusObject) => {
        client.close();
        resolve({ answers, code: s.code });
      });
      call.on("error", () => undefined);
      for (const r of requests) call.write(r);
      call.end();
    });
  }

  const reflectionRequest = (r: object) => Buffer.from(toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, r)));

  it("answers every reflection request shape with a status, never a throw (v1 and v1alpha)", async () => {
    const names = ["", "nope", "mlmesh.match.v1.Nope", "grpc.health.v1.Health.Nope", ".", "..", "a".repeat(5000), "\u0000\uffff", "mlmesh"];
    const shapes: object[] = [];
    for (const name of names) {
      shapes.push(
        { messageRequest: { case: "fileByFilename", value: name } },
        { messageRequest: { case: "fileContainingSymbol", value: name } },
        { messageRequest: { case: "allExtensionNumbersOfType", value: name } },
        { messageRequest: { case: "fileContainingExtension", value: { containingType: name, extensionNumber: 1 } } },
        {
          messageRequest: {
            case: "fileContainingExtension",
            value: { containingType: "google.protobuf.MethodOptions", extensionNumber: -7 },
          },
        },
        { messageRequest: { case: "listServices", value: name } },
      );
    }
    shapes.push({}, { host: "x".repeat(1000) });
    for (const version of ["v1", "v1alpha"] as const) {
      const outcome = await reflect(version, shapes.map(reflectionRequest));
      expect(outcome).toEqual({ answers: shapes.length, code: grpc.status.OK });
      await mesh.assertHealthy();
    }
  });

  it("answers random bytes on the reflection stream with INVALID_ARGUMENT", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const outcome = await reflect(seed % 2 ? "v1" : "v1alpha", [randomBytes(seed, 1 + ((seed * 37) % 300))]);
      // Some random bytes happen to decode as a valid (if odd) request; those are answered.
      expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT]).toContain(outcome.code);
    }
    await mesh.assertHealthy();
  });

  it("caps reflection streams per connection: past the cap RESOURCE_EXHAUSTED", async () => {
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`, { "grpc.use_local_subchannel_pool": 1 });
    const codes: number[] = [];
    const calls: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
    const ended: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const call = client.client.makeBidiStreamRequest(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      call.on("error", () => undefined);
      ended.push(
        new Promise((resolve) =>
          call.on("status", (s: grpc.StatusObject) => {
            codes.push(s.code);
            resolve();
          }),
        ),
      );
      // Each stream proves it is open with one answer before the next opens.
      await new Promise<void>((resolve) => {
        call.once("data", () => resolve());
        call.once("status", () => resolve());
        call.write(reflectionRequest({ messageRequest: { case: "listServices", value: "" } }));
      });
      calls.push(call);
    }
    expect(codes).toEqual([grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED]);
    for (const c of calls) c.end();
    await Promise.all(ended);
    client.close();
    expect(codes.filter((c) => c === grpc.status.OK)).toHaveLength(8);
    await mesh.assertHealthy();
  });

  it("survives a TCP connect and reset on every port, before and after the first bytes", async () => {
    for (const [, port] of allPorts()) {
      for (const before of [undefined, PREFACE.subarray(0, 5), PREFACE, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n")]) {
        for (let i = 0; i < 5; i++) {
          const socket = await connect(port);
          if (before) await write(socket, before);
          socket.resetAndDestroy();
        }
      }
    }
    await mesh.assertHealthy();
  });

  it("closes a connection that sends nothing (the Connect port's sniffer has a deadline)", async () => {
    for (const port of [mesh.ports.connect, mesh.ports.gateway, mesh.ports.admin]) {
      const socket = await connect(port);
      await closed(socket);
    }
    await mesh.assertHealthy();
  });

  it("answers garbage and truncated gRPC frames with a status", async () => {
    const path = "/mlmesh.forecast.v1.ForecastService/ForecastDemand";
    const auth: [string, string] = ["authorization", "Bearer test-key-0123456789abcdef"];
    const bodies = [
      grpcMessage(Buffer.from([0x0a, 0xff, 0xff])), // a length-delimited field that runs past the end
      grpcMessage(Buffer.alloc(3), 100), // declares 100 bytes, sends 3, ends the stream
      grpcMessage(randomBytes(7, 40), 40, true), // compressed flag without grpc-encoding
      randomBytes(9, 3), // not even a message prefix
      grpcMessage(Buffer.alloc(0), 0xffffffff), // declares 4 GiB
    ];
    for (const port of [mesh.ports.grpc, mesh.ports.connect]) {
      for (const body of bodies) {
        const status = await grpcStatusOf(port, { ":path": path, [auth[0]]: auth[1] }, body);
        expect(status, `port ${port}, body ${body.toString("hex").slice(0, 40)}`).toBeDefined();
        expect(status).not.toBe("0");
      }
    }
    await mesh.assertHealthy();
  });

  it("survives HTTP/2 rapid reset (CVE-2023-44487), SETTINGS and PING floods, on both HTTP/2 ports", async () => {
    for (const port of [mesh.ports.grpc, mesh.ports.connect]) {
      // Rapid reset: open a stream and cancel it at once, thousands of times, on one connection.
      const socket = await connect(port);
      const done = closed(socket);
      const headers = grpcRequestHeaders("/grpc.health.v1.Health/Check");
      const batches = function* () {
        yield Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]);
        for (let batch = 0; batch < 20; batch++) {
          const frames: Buffer[] = [];
          for (let i = 0; i < 250; i++) {
            const id = 1 + 2 * (batch * 250 + i);
            frames.push(frame(FrameType.HEADERS, 0x4, id, headers), frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
          }
          yield Buffer.concat(frames);
        }
      };
      await flood(socket, batches());
      socket.destroy();
      await done;

      // SETTINGS and PING floods: frames that each demand an answer, from a client that never reads the answers.
      for (const each of [frame(FrameType.SETTINGS, 0, 0), frame(FrameType.PING, 0, 0, Buffer.alloc(8))]) {
        const s = await connect(port);
        s.pause();
        const gone = closed(s);
        const chunks = function* () {
          yield PREFACE;
          for (let i = 0; i < 20; i++) yield Buffer.concat(Array.from({ length: 1000 }, () => each));
        };
        await flood(s, chunks());
        s.destroy();
        await gone;
      }
    }
    await mesh.assertHealthy();
  });

  it("refuses huge header lists and survives a CONTINUATION flood", async () => {
    for (const port of [mesh.ports.grpc, mesh.ports.connect]) {
      // A header list far past the advertised limit, in one HEADERS frame and its CONTINUATIONs.
      const big: [string, string][] = Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, "v".repeat(100)]);
      const block = Buffer.concat([grpcRequestHeaders("/grpc.health.v1.Health/Check"), headerBlock(big)]);
      const socket = await connect(port);
      const done = closed(socket);
      const frames = [PREFACE, frame(FrameType.SETTINGS, 0, 0)];
      for (let offset = 0; offset < block.length; offset += 16_000) {
        const chunk = block.subarray(offset, offset + 16_000);
        const last = offset + 16_000 >= block.length;
        frames.push(frame(offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, last ? 0x4 | 0x1 : offset === 0 ? 0x1 : 0, 1, chunk));
      }
      await write(socket, Buffer.concat(frames));
      socket.end();
      await done;

      // CONTINUATION flood (CVE-2024-27983 and kin): HEADERS without END_HEADERS, then endless CONTINUATIONs.
      const flood = await connect(port);
      const gone = closed(flood);
      await write(
        flood,
        Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0), frame(FrameType.HEADERS, 0x0, 1, grpcRequestHeaders("/x"))]),
      );
      for (let i = 0; i < 50 && !flood.destroyed; i++) {
        await write(
          flood,
          Buffer.concat(
            Array.from({ length: 200 }, (_, k) => frame(FrameType.CONTINUATION, 0, 1, headerBlock([[`c${i}-${k}`, "y".repeat(50)]]))),
          ),
        );
      }
      flood.destroy();
      await gone;
    }
    await mesh.assertHealthy();
  });

  it("answers RESOURCE_EXHAUSTED to an oversize gRPC message", async () => {
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`, { "grpc.use_local_subchannel_pool": 1 });
    const err = await client
      .raw(
        { parent: { typeName: "mlmesh.forecast.v1.ForecastService" }, name: "ForecastDemand" } as never,
        Buffer.alloc(128 * 1024, 0x01),
        { metadata: { authorization: "Bearer test-key-0123456789abcdef" }, deadlineMs: 30_000 },
      )
      .catch((e: grpc.ServiceError) => e);
    client.close();
    expect((err as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await mesh.assertHealthy();
  });

  it("answers a malformed grpc-timeout with a status, on the gRPC and Connect ports", async () => {
    for (const port of [mesh.ports.grpc, mesh.ports.connect]) {
      for (const timeout of ["abc", "-1S", "999999999S", "1X", ""]) {
        const status = await grpcStatusOf(
          port,
          { ":path": "/grpc.health.v1.Health/Check", "grpc-timeout": timeout },
          grpcMessage(Buffer.alloc(0)),
        );
        expect(status, `port ${port}, grpc-timeout ${JSON.stringify(timeout)}`).toBeDefined();
      }
    }
    await mesh.assertHealthy();
  });
});

/** Sends one gRPC request on a fresh HTTP/2 connection; resolves with the grpc-status it ended with, if any. */
async function grpcStatusOf(port: number, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<string | undefined> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined);
  const stream = session.request({ ":method": "POST", "content-type": "application/grpc", te: "trailers", ...headers });
  stream.on("error", () => undefined);
  const status = await new Promise<string | undefined>((resolve) => {
    let grpcStatus: string | undefined;
    stream.on("response", (h) => (grpcStatus ??= h["grpc-status"] as string | undefined));
    stream.on("trailers", (t) => (grpcStatus = t["grpc-status"] as string | undefined));
    stream.on("close", () => resolve(grpcStatus));
    stream.resume();
    stream.end(body);
  });
  session.close();
  return status;
}
