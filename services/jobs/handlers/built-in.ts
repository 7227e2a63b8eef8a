import { handlerMap } from "../handler.js";
import { forecastAllProducts } from "./forecast-all-products.js";
import { precomputeRecommendations } from "./precompute-recommendations.js";
import { trainMatch } from "./train-match.js";
import { trainRecommend } from "./train-recommend.js";

/** The jobs that are built. A model or task missing here is refused at submit with UNIMPLEMENTED. */
export const builtInHandlers = handlerMap([trainMatch, trainRecommend, forecastAllProducts, precomputeRecommendations]);
