import { log } from "../runtime/log.js";
import type { JobQueues } from "./queues.js";
import type { ScheduleStore } from "./schedule-store.js";

/**
 * Makes BullMQ's job schedulers agree with the schedules PostgreSQL holds:
 * a schedule Redis lost (it came back without its data) gets its scheduler
 * again, and a scheduler whose schedule is gone (a DeleteSchedule that could
 * not reach Redis) is removed. Safe to race with other workers and with
 * CreateSchedule and DeleteSchedule: upserting a scheduler is idempotent
 * (its next tick's id is fixed by the schedule and the time), and removing
 * one that is gone is a no-op.
 */
export class SchedulerReconciler {
  constructor(
    private readonly schedules: ScheduleStore,
    private readonly queues: JobQueues,
    private readonly attempts: number,
  ) {}

  /** One pass; resolves with the number of schedulers created or removed. */
  async runOnce(): Promise<number> {
    const [wanted, present] = await Promise.all([this.schedules.all(), this.queues.schedulers()]);
    const here = new Set(present.map((s) => `${s.queue}/${s.name}`));
    const names = new Map(wanted.map((s) => [s.name, s]));
    let repaired = 0;
    for (const schedule of wanted) {
      if (here.has(`${schedule.jobType}/${schedule.name}`)) continue;
      await this.queues.upsertScheduler(schedule, this.attempts);
      repaired++;
      log.warn("job reconciler: re-created a schedule's scheduler Redis had lost", { schedule: schedule.name });
    }
    for (const s of present) {
      if (names.get(s.name)?.jobType === s.queue) continue;
      // Looked up again: a CreateSchedule since the list above may have recorded it.
      if ((await this.schedules.get(s.name))?.jobType === s.queue) continue;
      await this.queues.removeScheduler(s.name, [s.queue]);
      repaired++;
      log.warn("job reconciler: removed a scheduler whose schedule is deleted", { schedule: s.name });
    }
    return repaired;
  }
}
