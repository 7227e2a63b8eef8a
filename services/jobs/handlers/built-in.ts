import { handlerMap } from "../handler.js";
import { forecastAllProducts } from "./forecast-all-products.js";
import { trainMatch } from "./train-match.js";

/** The jobs that are built. A model or task missing here is refused at submit with UNIMPLEMENTED. */
export const builtInHandlers = handlerMap([trainMatch, forecastAllProducts]);
