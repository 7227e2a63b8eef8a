import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";

// Forecast is not built yet: every method answers UNIMPLEMENTED.
export const forecastArea: AreaFactory = async () => ({ service: ForecastService, impl: {} });
