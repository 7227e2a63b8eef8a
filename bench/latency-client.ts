import postgres from "postgres";
import { loadConfig } from "../services/runtime/config.js";
import { BENCH_API_KEY } from "./bench-config.js";
import { recommendLatencies } from "./recommend-latency.js";
import { serverSideLatencies } from "./server-side.js";

/**
 * The one-call-at-a-time latency sections, driven from a process of their own
 * like any client: in the server's process, the client's work and garbage
 * shared its event loop and heap, and showed up in the server's figures.
 * Prints the markdown sections on stdout.
 */
const grpcPort = Number(process.env.BENCH_GRPC_PORT);
const adminPort = Number(process.env.BENCH_ADMIN_PORT);
const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => undefined });
try {
  const target = {
    grpcPort,
    adminPort,
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    redisPrefix: loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" }).redisPrefix,
    sql,
  };
  const serverSide = await serverSideLatencies(target, BENCH_API_KEY);
  const recommend = await recommendLatencies(target, BENCH_API_KEY);
  process.stdout.write([serverSide, recommend].join("\n"));
} finally {
  await sql.end();
}
