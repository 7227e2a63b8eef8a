/**
 * What an area needs to offer jobs: the handler it writes, the context its
 * handler runs in, and the checks for its parameters. The areas' handlers are
 * gathered in services/job-handlers.ts; the queue engine here knows none of them.
 */
export { handlerMap, type JobHandler, type JobHandlers, type JobRunContext } from "./handler.js";
export { checkKnown, integerIn, noParameters, numberIn } from "./parameters.js";
export { isUuid } from "./uuid.js";
export { loadJobsConfig, type JobsConfig } from "./config.js";
export type { RetentionTarget } from "./retention.js";
