import { handlerMap } from "../services/jobs/handler.js";

/** The benchmark's jobs: score_candidates doing nothing, so the figures are the queue's own. */
export const noopHandlers = handlerMap([
  { jobType: "inference", kind: "score_candidates", checkParameters: () => undefined, run: async () => ({}) },
]);
