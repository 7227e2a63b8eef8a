import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";
import { httpRequest, MeshProcess, SAMPLE_FORECAST } from "./mesh-process.js";
import { closed, connect, write } from "../../bench/wire.js";

const LIMIT = 64 * 1024;

/**
 * A hostile client against the real `mlmesh serve` process over HTTP: the
 * Connect, REST and admin ports. After every case the process must be alive,
 * every port must answer, and nothing may have reached the last-resort handler.
 */
describe("hostile clients: HTTP/1.1 and the Connect protocol", () => {
  let mesh: MeshProcess;
  beforeAll(async () => {
    mesh = await MeshProcess.start({
      ...(await testScope()).env,
      MLMESH_MAX_MESSAGE_BYTES: String(LIMIT),
      MLMESH_HEADERS_TIMEOUT_MS: "1000",
      MLMESH_REQUEST_TIMEOUT_MS: "2000",
      MLMESH_MAX_WATCHES_PER_CONNECTION: "4",
      MLMESH_MAX_WATCHES: "6",
    });
  });
  afterAll(async () => mesh?.stop());

  const httpPorts = () => [mesh.ports.connect, mesh.ports.gateway, mesh.ports.admin];
  const json = { "content-type": "application/json" };
  const auth = { authorization: `Bearer ${TEST_KEY}` };

  it("refuses an absurd Content-Length before reading a byte of it", async () => {
    const huge = String(10 ** 15);
    const rest = await rawRequest(
      mesh.ports.gateway,
      `POST /forecast/demand HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-length: ${huge}\r\n\r\n`,
    );
    expect(rest).toMatch(/^HTTP\/1\.1 413/);
    expect(rest).toContain('"code":8');
    const admin = await rawRequest(mesh.ports.admin, `POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: ${huge}\r\n\r\n`);
    expect(admin).toMatch(/^HTTP\/1\.1 413/);
    const connectPort = await rawRequest(
      mesh.ports.connect,
      `POST /mlmesh.forecast.v1.ForecastService/ForecastDemand HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-length: ${huge}\r\n\r\n`,
    );
    expect(connectPort).toMatch(/^HTTP\/1\.1 (413|429)/);
    await mesh.assertHealthy();
  });

  it("REST checks the key before it reads a body", async () => {
    // Without a key, and a body declared but never sent: the answer must not wait for the body.
    const answer = await rawRequest(
      mesh.ports.gateway,
      `POST /forecast/demand HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${LIMIT - 1}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    await mesh.assertHealthy();
  });

  it("answers oversize messages RESOURCE_EXHAUSTED or 413 on REST, Connect unary and Connect streaming", async () => {
    const big = JSON.stringify({ product_id: "x", horizon_days: 7, transaction_data: [], pad: "p".repeat(LIMIT * 2) });
    const rest = await httpRequest(mesh.ports.gateway, "POST", "/forecast/demand", big, { ...json, ...auth });
    expect(rest.status).toBe(413);
    expect(JSON.parse(rest.body).code).toBe(8);

    const unary = await httpRequest(mesh.ports.connect, "POST", "/mlmesh.forecast.v1.ForecastService/ForecastDemand", big, {
      ...json,
      ...auth,
    });
    expect([413, 429]).toContain(unary.status);
    expect(unary.body).toContain("resource_exhausted");

    // Connect streaming: one enveloped request message past the limit.
    const payload = Buffer.from(JSON.stringify({ service: "s".repeat(LIMIT * 2) }));
    const envelope = Buffer.alloc(5);
    envelope.writeUInt32BE(payload.length, 1);
    const stream = await httpRequest(mesh.ports.connect, "POST", "/grpc.health.v1.Health/Watch", Buffer.concat([envelope, payload]), {
      "content-type": "application/connect+json",
    });
    expect(stream.body).toContain("resource_exhausted");
    await mesh.assertHealthy();
  });

  it("answers malformed grpc-timeout and connect-timeout-ms headers INVALID_ARGUMENT", async () => {
    for (const timeout of ["abc", "1X", "-5S", "123456789S", ""]) {
      const rest = await httpRequest(mesh.ports.gateway, "POST", "/forecast/demand", SAMPLE_FORECAST, {
        ...json,
        ...auth,
        "grpc-timeout": timeout,
      });
      expect(rest.status, `grpc-timeout ${JSON.stringify(timeout)}: ${rest.body}`).toBe(400);
      expect(JSON.parse(rest.body)).toMatchObject({ code: 3, message: expect.stringContaining("grpc-timeout") });
    }
    for (const timeout of ["abc", "-1", "1.5", "99999999999"]) {
      const connectCall = await httpRequest(
        mesh.ports.connect,
        "POST",
        "/mlmesh.forecast.v1.ForecastService/ForecastDemand",
        SAMPLE_FORECAST,
        {
          ...json,
          ...auth,
          "connect-timeout-ms": timeout,
        },
      );
      expect(connectCall.status, `connect-timeout-ms ${JSON.stringify(timeout)}`).toBe(400);
      expect(JSON.parse(connectCall.body).code).toBe("invalid_argument");
    }
    await mesh.assertHealthy();
  });

  it("answers bad paths, bad JSON and huge headers with 4xx", async () => {
    const badPath = await httpRequest(mesh.ports.gateway, "GET", "/jobs/%E0%A4%A/status", undefined, auth);
    expect(badPath.status).toBe(400);
    const badJson = await httpRequest(mesh.ports.gateway, "POST", "/forecast/demand", "{not json", { ...json, ...auth });
    expect(badJson.status).toBe(400);
    for (const port of httpPorts()) {
      const answer = await rawRequest(port, `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"b".repeat(64 * 1024)}\r\n\r\n`);
      expect(answer, `port ${port}`).toMatch(/^HTTP\/1\.1 431/);
      const garbage = await rawRequest(port, "\x00\x01\x02 not http at all\r\n\r\n");
      expect(garbage === "" || /^HTTP\/1\.1 400/.test(garbage), `port ${port}: ${garbage}`).toBe(true);
    }
    await mesh.assertHealthy();
  });

  it("closes slowloris connections and chunked bodies that never end", async () => {
    for (const port of httpPorts()) {
      // Slowloris: a header line now and then, never the blank line that ends them.
      const slow = await connect(port);
      const slowGone = closed(slow);
      await write(slow, "GET /healthz HTTP/1.1\r\nhost: x\r\n");
      const drip = setInterval(() => void write(slow, `x-drip: ${Date.now()}\r\n`), 100);
      // A body that never ends: chunks keep coming, the last chunk never does.
      const chunked = await connect(port);
      const chunkedGone = closed(chunked);
      await write(
        chunked,
        `POST /forecast/demand HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n`,
      );
      const trickle = setInterval(() => void write(chunked, "1\r\n \r\n"), 100);
      await mesh.assertHealthy();
      await Promise.all([slowGone, chunkedGone]);
      clearInterval(drip);
      clearInterval(trickle);
    }
    await mesh.assertHealthy();
  });

  it("keeps answering beside 1,000 idle sockets", async () => {
    const ports = Object.values(mesh.ports);
    const sockets = await Promise.all(Array.from({ length: 1000 }, (_, i) => connect(ports[i % ports.length])));
    await mesh.assertHealthy();
    for (const s of sockets) s.destroy();
    await mesh.assertHealthy();
  });

  it("caps Health.Watch streams per connection and in total: RESOURCE_EXHAUSTED past a cap", async () => {
    const sessions = [http2.connect(`http://127.0.0.1:${mesh.ports.connect}`), http2.connect(`http://127.0.0.1:${mesh.ports.connect}`)];
    for (const s of sessions) s.on("error", () => undefined);
    const open: http2.ClientHttp2Stream[] = [];
    /** Opens one watch; resolves "open" on its first message, or with the error code it ends with. */
    const watch = (session: http2.ClientHttp2Session) =>
      new Promise<string>((resolve) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/grpc.health.v1.Health/Watch",
          "content-type": "application/connect+json",
        });
        stream.on("error", () => undefined);
        const body = Buffer.from("{}");
        const envelope = Buffer.alloc(5);
        envelope.writeUInt32BE(body.length, 1);
        let text = "";
        stream.on("data", (chunk: Buffer) => {
          text += chunk.toString("latin1");
          // A message envelope (flag 0) is the first status; an end-of-stream envelope (flag 2) carries the error.
          if (text.charCodeAt(0) === 0 && text.length >= 5) {
            open.push(stream);
            resolve("open");
          }
        });
        stream.on("end", () => resolve(/"code":"([a-z_]+)"/.exec(text)?.[1] ?? "ended"));
        stream.end(Buffer.concat([envelope, body]));
      });
    const first: string[] = [];
    for (let i = 0; i < 5; i++) first.push(await watch(sessions[0]));
    expect(first).toEqual(["open", "open", "open", "open", "resource_exhausted"]);
    const second: string[] = [];
    for (let i = 0; i < 3; i++) second.push(await watch(sessions[1]));
    expect(second).toEqual(["open", "open", "resource_exhausted"]);
    for (const s of open) s.close();
    for (const s of sessions) s.close();
    await mesh.assertHealthy();
  });
});

/** Writes raw bytes on a fresh connection; resolves with everything the server sent before it closed or answered. */
async function rawRequest(port: number, bytes: string): Promise<string> {
  const socket = await connect(port);
  const answer = new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      // One response is enough: a status line and the end of its headers.
      if (/\r\n\r\n/.test(text)) resolve(text);
    });
    socket.once("close", () => resolve(text));
  });
  await write(socket, bytes);
  const text = await answer;
  socket.destroy();
  return text;
}
