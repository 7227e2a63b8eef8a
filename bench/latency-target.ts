import type { Sql } from "../services/runtime/storage/database.js";

/** A running mesh as a separate client process sees it: its ports, and the database to pick requests from. */
export interface LatencyTarget {
  grpcPort: number;
  adminPort: number;
  redisUrl: string;
  /** MLMESH_REDIS_PREFIX as the mesh reads it. */
  redisPrefix: string;
  sql: Sql;
}
