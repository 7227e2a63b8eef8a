import type { Redis } from "ioredis";
import { log } from "../runtime/log.js";

/**
 * BullMQ loses jobs if Redis evicts keys or restarts without persistence, so
 * every config we ship sets noeviction and AOF. A Redis that does not is
 * allowed (managed services may refuse CONFIG) but reported loudly.
 */
export async function checkRedisForQueues(redis: Redis, ready: () => Promise<void>): Promise<string[]> {
  const problems: string[] = [];
  try {
    await ready();
    const [, policy] = (await redis.config("GET", "maxmemory-policy")) as string[];
    const [, aof] = (await redis.config("GET", "appendonly")) as string[];
    if (policy !== "noeviction") problems.push(`maxmemory-policy is '${policy}': Redis may evict queued jobs; set it to noeviction`);
    if (aof !== "yes") problems.push("appendonly is 'no': queued jobs are lost if Redis restarts; enable AOF persistence");
  } catch (err) {
    problems.push(
      `could not read the Redis configuration (${(err as Error).message}); make sure maxmemory-policy is noeviction and AOF is on`,
    );
  }
  for (const p of problems) log.warn(`REDIS IS NOT CONFIGURED FOR JOB QUEUES: ${p}`);
  return problems;
}
