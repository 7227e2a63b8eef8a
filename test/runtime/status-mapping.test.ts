import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { AreaFactory } from "../../services/runtime/area.js";
import { MeshError } from "../../services/runtime/errors.js";
import type { ServiceImpl } from "../../services/runtime/handler.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { Status } from "../../services/runtime/status.js";
import { httpStatusOf } from "../../services/runtime/transports/rest.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

/**
 * Envoy's grpc_json_transcoder answers a gRPC status with the HTTP status of
 * Grpc::Utility::grpcToHttpStatus (envoyproxy/envoy, source/common/grpc/status.cc,
 * "From https://cloud.google.com/apis/design/errors#handling_errors"), written
 * out here code by code from that function, not from our gateway.
 */
const ENVOY_GRPC_TO_HTTP: Record<number, number> = {
  0: 200, // Ok
  1: 499, // Canceled: client closed request
  2: 500, // Unknown
  3: 400, // InvalidArgument
  4: 504, // DeadlineExceeded: gateway time-out
  5: 404, // NotFound
  6: 409, // AlreadyExists: conflict
  7: 403, // PermissionDenied
  8: 429, // ResourceExhausted: too many requests
  9: 400, // FailedPrecondition
  10: 409, // Aborted: conflict
  11: 400, // OutOfRange
  12: 501, // Unimplemented
  13: 500, // Internal
  14: 503, // Unavailable
  15: 500, // DataLoss
  16: 401, // Unauthenticated
};

const codes = Object.values(Status).filter((v): v is Status => typeof v === "number");

describe("gRPC status to HTTP status, as Envoy maps it", () => {
  it("covers all 17 codes", () => {
    expect(codes).toHaveLength(17);
    expect(codes.map(String).sort()).toEqual(Object.keys(ENVOY_GRPC_TO_HTTP).sort());
  });

  for (const code of codes)
    it(`${Status[code]} (${code}) is HTTP ${ENVOY_GRPC_TO_HTTP[code]}`, () => {
      expect(httpStatusOf(code)).toBe(ENVOY_GRPC_TO_HTTP[code]);
    });

  describe("through the gateway", () => {
    let mesh: Mesh;
    // ForecastDemand answers the status its product_id names (the code as a number); 0 answers normally.
    const impl: ServiceImpl<typeof ForecastService> = {
      forecastDemand: async (req) => {
        const code = Number(req.productId) as Status;
        if (code === Status.OK) return { productId: req.productId };
        throw new MeshError(code, `planned ${Status[code]}`);
      },
    };
    const statusArea: AreaFactory = async () => ({ service: ForecastService, impl });
    beforeAll(async () => {
      ({ mesh } = await startTestMesh([statusArea]));
    });
    afterAll(async () => {
      await mesh?.shutdown();
    });

    it("answers each code with Envoy's HTTP status and a google.rpc.Status body carrying the code", async () => {
      for (const code of codes) {
        const res = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/forecast/demand`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
          body: JSON.stringify({ product_id: String(code), horizon_days: 1 }),
        });
        const body = (await res.json()) as { code?: number; product_id?: string };
        expect([Status[code], res.status]).toEqual([Status[code], ENVOY_GRPC_TO_HTTP[code]]);
        if (code === Status.OK) expect(body.product_id).toBe("0");
        else expect(body.code).toBe(code);
      }
    });
  });
});
