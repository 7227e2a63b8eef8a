import { JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";

// JobQueue is not built yet: every method answers UNIMPLEMENTED.
export const jobsArea: AreaFactory = async () => ({ service: JobQueueService, impl: {} });
