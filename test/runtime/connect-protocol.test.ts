import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ForecastDemandRequestSchema, ForecastService, HolidayCalendar } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { holdCalls, releaseHeldCalls, slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

const auth = { authorization: `Bearer ${TEST_KEY}` };
const PATH = "/mlmesh.forecast.v1.ForecastService/ForecastDemand";
/** Small enough to cross in a test, large enough for the requests below. */
const MAX_BYTES = 64 * 1024;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * The Connect unary protocol as connect-node answers it, on both HTTP
 * versions, now that unary calls take a short path of their own
 * (services/runtime/transports/connect-unary.ts): compression both ways,
 * timeouts, the error JSON, unknown fields and enum names, size limits, and
 * what still goes to connect-node. The real connect-node client where it can
 * say it; raw requests for what a client library would not send.
 */
describe("Connect unary protocol on the Connect port", () => {
  let mesh: Mesh;
  let base: string;
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([slowForecastArea], { MLMESH_MAX_MESSAGE_BYTES: String(MAX_BYTES) }));
    base = `http://127.0.0.1:${mesh.ports.connect}`;
  });
  afterAll(async () => {
    await mesh?.shutdown();
  });
  afterEach(releaseHeldCalls);

  /** One raw request over HTTP/1.1, bytes as they came (fetch would inflate a gzip answer itself). */
  function h1(path: string, headers: Record<string, string>, body: Uint8Array | string, method = "POST"): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${base}${path}`, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, String(v));
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.on("error", reject);
      req.end(method === "GET" ? undefined : body);
    });
  }

  async function h2(path: string, headers: Record<string, string>, body: Uint8Array | string): Promise<Answer> {
    const session = http2.connect(base);
    try {
      return await new Promise<Answer>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": path, ...headers });
        const chunks: Buffer[] = [];
        let head: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (head = h));
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(head)) if (!k.startsWith(":") && v !== undefined) out.set(k, String(v));
          resolve({ status: Number(head[":status"]), headers: out, body: Buffer.concat(chunks) });
        });
        stream.on("error", reject);
        stream.end(body);
      });
    } finally {
      session.close();
    }
  }

  const json = (a: Answer) => JSON.parse(a.body.toString("utf8")) as Record<string, unknown>;

  for (const [version, send] of [
    ["HTTP/1.1", (path: string, headers: Record<string, string>, body: Uint8Array | string) => h1(path, headers, body)],
    ["h2c", h2],
  ] as const) {
    describe(version, () => {
      it("answers binary and JSON, ignoring fields the message does not have", async () => {
        const bytes = toBinary(ForecastDemandRequestSchema, create(ForecastDemandRequestSchema, { productId: "bin", horizonDays: 1 }));
        // Field 99, varint 7: unknown to the message; a newer client's field.
        const unknown = Buffer.concat([Buffer.from(bytes), Buffer.from([0x98, 0x06, 0x07])]);
        const bin = await send(PATH, { "content-type": "application/proto", ...auth }, unknown);
        expect(bin.status).toBe(200);
        expect(bin.headers.get("content-type")).toBe("application/proto");
        expect(bin.headers.get("traceparent")).toMatch(/^00-/);
        const text = await send(
          PATH,
          { "content-type": "application/json", ...auth },
          JSON.stringify({ productId: "js", horizon_days: 2, newerField: { a: 1 } }),
        );
        expect(text.status).toBe(200);
        expect(text.headers.get("content-type")).toBe("application/json");
        expect(json(text)).toEqual({ productId: "js", horizonDays: 2 });
      });

      it("sends errors as Connect's error JSON with the mapped HTTP status", async () => {
        const unauth = await send(PATH, { "content-type": "application/proto" }, new Uint8Array());
        expect(unauth.status).toBe(401);
        expect(unauth.headers.get("content-type")).toBe("application/json");
        expect(Object.keys(json(unauth)).sort()).toEqual(["code", "message"]);
        expect(json(unauth).code).toBe("unauthenticated");
        const invalid = await send(
          PATH,
          { "content-type": "application/json", ...auth },
          JSON.stringify({ productId: "x", horizonDays: 400 }),
        );
        expect(invalid.status).toBe(400);
        expect(json(invalid)).toEqual({
          code: "invalid_argument",
          message: expect.stringContaining("horizon_days must be between 1 and 365"),
        });
        // Bytes that are no protobuf message: the caller's fault, not the server's.
        const garbage = await send(PATH, { "content-type": "application/proto", ...auth }, Buffer.from([0xff, 0xff, 0xff, 0xff]));
        expect(garbage.status).toBe(400);
        expect(json(garbage).code).toBe("invalid_argument");
        const notJson = await send(PATH, { "content-type": "application/json", ...auth }, "{product");
        expect(json(notJson).code).toBe("invalid_argument");
      });

      it("names an enum value the enum does not have instead of reading it as 0", async () => {
        const bad = await send(
          PATH,
          { "content-type": "application/json", ...auth },
          JSON.stringify({ productId: "x", horizonDays: 1, holidayCalendar: "HOLIDAY_CALENDAR_MARS" }),
        );
        expect(bad.status).toBe(400);
        expect(json(bad)).toEqual({
          code: "invalid_argument",
          message: 'holiday_calendar: "HOLIDAY_CALENDAR_MARS" is not a name of mlmesh.forecast.v1.HolidayCalendar [enum.name]',
        });
        const nested = await send(
          PATH,
          { "content-type": "application/json", ...auth },
          JSON.stringify({ productId: "x", horizonDays: 1, transactionData: [{ date: "2025-01-01", quantity: 1 }, { date: 3 }] }),
        );
        // Not an enum problem: the parser words it, still INVALID_ARGUMENT.
        expect(json(nested).code).toBe("invalid_argument");
        for (const value of ["HOLIDAY_CALENDAR_US", 1]) {
          const ok = await send(
            PATH,
            { "content-type": "application/json", ...auth },
            JSON.stringify({ productId: "x", horizonDays: 1, holidayCalendar: value }),
          );
          expect(ok.status).toBe(200);
        }
      });

      it("takes a gzip request and gzips a large answer when asked", async () => {
        const body = gzipSync(JSON.stringify({ productId: "gz", horizonDays: 1 }));
        const small = await send(
          PATH,
          { "content-type": "application/json", "content-encoding": "gzip", "accept-encoding": "gzip", ...auth },
          body,
        );
        expect(small.status).toBe(200);
        // Under connect's 1 KiB threshold: sent as is.
        expect(small.headers.get("content-encoding")).toBeNull();
        expect(json(small)).toEqual({ productId: "gz", horizonDays: 1 });
        // Forty bad dates make an error message of several KiB: compressed.
        const bad = {
          productId: "gz",
          horizonDays: 1,
          transactionData: Array.from({ length: 40 }, () => ({ date: "not-a-date", quantity: 1 })),
        };
        const large = await send(
          PATH,
          { "content-type": "application/json", "accept-encoding": "br;q=0, gzip", ...auth },
          JSON.stringify(bad),
        );
        // "br;q=0" is not a name connect knows: the next, gzip, is taken.
        expect(large.headers.get("content-encoding")).toBe("gzip");
        expect(Number(large.headers.get("content-length"))).toBe(large.body.length);
        const error = JSON.parse(gunzipSync(large.body).toString("utf8")) as { code: string; message: string };
        expect(error.code).toBe("invalid_argument");
        expect(error.message.length).toBeGreaterThan(1024);
      });

      it("refuses an encoding it does not have, listing those it has", async () => {
        const res = await send(PATH, { "content-type": "application/json", "content-encoding": "zstd", ...auth }, "{}");
        expect(res.status).toBe(501);
        expect(res.headers.get("accept-encoding")).toBe("gzip,br");
        expect(json(res)).toEqual({ code: "unimplemented", message: 'unknown compression "zstd": supported encodings are gzip,br' });
      });

      it("ends a call at connect-timeout-ms and refuses a malformed one", async () => {
        holdCalls();
        const late = await send(
          PATH,
          { "content-type": "application/json", "connect-timeout-ms": "50", ...auth },
          JSON.stringify({ productId: "t", horizonDays: 1 }),
        );
        expect(late.status).toBe(504);
        expect(json(late).code).toBe("deadline_exceeded");
        for (const value of ["soon", "-5", "12345678901"]) {
          const bad = await send(PATH, { "content-type": "application/json", "connect-timeout-ms": value, ...auth }, "{}");
          expect(bad.status).toBe(400);
          expect(json(bad)).toEqual({ code: "invalid_argument", message: `protocol error: invalid connect timeout value: ${value}` });
        }
      });

      it("answers RESOURCE_EXHAUSTED past the message size limit, declared or after decompression", async () => {
        const big = JSON.stringify({ productId: "x".repeat(MAX_BYTES), horizonDays: 1 });
        const declared = await send(
          PATH,
          { "content-type": "application/json", "content-length": String(Buffer.byteLength(big)), ...auth },
          big,
        );
        expect(declared.status).toBe(429);
        expect(json(declared)).toEqual({
          code: "resource_exhausted",
          message: `message size ${Buffer.byteLength(big)} is larger than configured readMaxBytes ${MAX_BYTES}`,
        });
        // Without a key, the key is what is refused: the body is not read at all.
        const keyless = await send(PATH, { "content-type": "application/json", "content-length": String(Buffer.byteLength(big)) }, big);
        expect(keyless.status).toBe(401);
        expect(json(keyless).code).toBe("unauthenticated");
        // A few hundred bytes on the wire, past the limit once inflated.
        const bomb = await send(PATH, { "content-type": "application/json", "content-encoding": "gzip", ...auth }, gzipSync(big));
        expect(bomb.status).toBe(429);
        expect(json(bomb).code).toBe("resource_exhausted");
      });

      it("leaves to connect-node what it does not serve itself", async () => {
        const stream = await send(PATH, { "content-type": "application/connect+proto", ...auth }, new Uint8Array());
        expect(stream.status).toBe(415);
        const missing = await send(
          "/mlmesh.forecast.v1.ForecastService/Nope",
          { "content-type": "application/proto", ...auth },
          new Uint8Array(),
        );
        expect(missing.status).toBe(404);
      });
    });
  }

  it("serves GET the way connect-node does: not for a method with side effects", async () => {
    const res = await h1(`${PATH}?encoding=json&message=${encodeURIComponent("{}")}`, auth, "", "GET");
    expect(res.status).toBe(405);
  });

  it("talks to connect-node's own client: gzip requests, binary and JSON, both HTTP versions", async () => {
    for (const httpVersion of ["1.1", "2"] as const) {
      for (const useBinaryFormat of [true, false]) {
        const client = createClient(
          ForecastService,
          createConnectTransport({ baseUrl: base, httpVersion, useBinaryFormat, sendCompression: compressionGzip, compressMinBytes: 1 }),
        );
        const res = await client.forecastDemand(
          { productId: `c-${httpVersion}`, horizonDays: 1, holidayCalendar: HolidayCalendar.US },
          { headers: auth },
        );
        expect(res.productId).toBe(`c-${httpVersion}`);
        const err = await client
          .forecastDemand({ productId: "c", horizonDays: 0 }, { headers: auth, timeoutMs: 30_000 })
          .catch((e: unknown) => ConnectError.from(e));
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
        holdCalls();
        const late = await client
          .forecastDemand({ productId: "c", horizonDays: 1 }, { headers: auth, timeoutMs: 50 })
          .catch((e: unknown) => ConnectError.from(e));
        expect((late as ConnectError).code).toBe(Code.DeadlineExceeded);
        releaseHeldCalls();
      }
    }
  });
});
