import { forecastJobs, predictionsRetention } from "./forecast/jobs.js";
import { handlerMap, type RetentionTarget } from "./jobs/index.js";
import { matchJobs } from "./match/jobs.js";
import { notifyJobs } from "./notify/jobs.js";
import { recommendJobs } from "./recommend/jobs.js";

/** Every job that is built, gathered from the areas. A model or task missing here is refused at submit with UNIMPLEMENTED. */
export const jobHandlers = handlerMap([...matchJobs, ...recommendJobs, ...forecastJobs, ...notifyJobs]);

/** The rows the areas want cleaned up on a schedule (the workers' retention, besides the job history). */
export const retentionTargets: readonly RetentionTarget[] = [predictionsRetention];
