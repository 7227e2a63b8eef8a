import { ForecastService } from "../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { sampleProducts } from "../services/forecast/sample-demand.js";
import type { Mesh } from "../services/runtime/mesh.js";
import type { MethodCase } from "./grpc-methods.js";

/** The methods each built service adds to the benchmark. */
export async function benchCases(_mesh: Mesh): Promise<MethodCase[]> {
  const [product] = sampleProducts({ count: 1, days: 3 * 365, endDate: "2025-06-30", seed: 7 });
  const forecastRequest = { productId: "bench-sku", horizonDays: 90, transactionData: product.days };
  return [
    {
      name: "ForecastDemand (3 years inline, horizon 90, refit: cache_bypass)",
      service: ForecastService,
      method: ForecastService.method.forecastDemand,
      request: { ...forecastRequest, cacheBypass: true },
      authenticated: true,
    },
    {
      name: "ForecastDemand (same request, served from the ml_predictions cache)",
      service: ForecastService,
      method: ForecastService.method.forecastDemand,
      request: forecastRequest,
      authenticated: true,
    },
  ];
}
