import { NotificationTimingService } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";

// NotificationTiming is not built yet: every method answers UNIMPLEMENTED.
export const notifyArea: AreaFactory = async () => ({ service: NotificationTimingService, impl: {} });
