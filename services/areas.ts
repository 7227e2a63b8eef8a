import { forecastArea } from "./forecast/service.js";
import { jobHandlers } from "./job-handlers.js";
import { jobsAreaWith } from "./jobs/service.js";
import { matchArea } from "./match/service.js";
import { notificationDeliveryArea, notifyArea } from "./notify/service.js";
import { recommendArea } from "./recommend/service.js";
import type { AreaFactory } from "./runtime/area.js";
import { statusArea } from "./status/service.js";

/** Every service the mesh serves. */
export const areas: readonly AreaFactory[] = [
  matchArea,
  recommendArea,
  notifyArea,
  notificationDeliveryArea,
  forecastArea,
  jobsAreaWith(jobHandlers),
  statusArea,
];
