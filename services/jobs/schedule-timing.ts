import { CronExpressionParser } from "cron-parser";
import type { Timing } from "./schedule-store.js";

type Violation = { field: string; rule: string; message: string };

/**
 * Checks a cron expression and time zone the way BullMQ will read them
 * (cron-parser, BullMQ's own parser), so a schedule that would never tick, or
 * make its queue throw at every tick, is refused at CreateSchedule.
 */
export function checkTiming(timing: Timing): Violation | undefined {
  if (!("cron" in timing)) return undefined;
  if (timing.timeZone && !isTimeZone(timing.timeZone)) {
    return {
      field: "schedule.cron.time_zone",
      rule: "schedule.cron.time_zone.iana",
      message: `'${timing.timeZone}' is not an IANA time zone (e.g. Europe/Lisbon, UTC)`,
    };
  }
  try {
    CronExpressionParser.parse(timing.cron, { tz: timing.timeZone || "UTC" }).next();
  } catch (err) {
    return {
      field: "schedule.cron.expression",
      rule: "schedule.cron.expression.valid",
      message: `not a cron expression (minute hour day-of-month month day-of-week): ${(err as Error).message}`,
    };
  }
  return undefined;
}

/** Whether the runtime's time-zone database knows the name (Intl refuses unknown ones). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
