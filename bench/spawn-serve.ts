import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { BENCH_API_KEY } from "./bench-config.js";

/** A `mlmesh serve` process the benchmark started, with its ports. */
export interface ServeProcess {
  child: ChildProcess;
  grpcPort: number;
  adminPort: number;
  /** Milliseconds from spawn to the first SERVING answer of grpc.health.v1 Health/Check. */
  servingMs: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node dist/cli/main.js serve` against the database and times it to
 * SERVING on grpc.health.v1 Health/Check (asked every 20 ms; refused
 * connections and NOT_SERVING count as not yet). Fails if it exits first or
 * is not serving within `timeoutMs`.
 */
export async function spawnServe(databaseUrl: string, env: Record<string, string> = {}, timeoutMs = 180_000): Promise<ServeProcess> {
  const [grpcPort, connectPort, gatewayPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(process.execPath, [new URL("../cli/main.js", import.meta.url).pathname, "serve"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      MLMESH_API_KEYS: BENCH_API_KEY,
      MLMESH_HOST: "127.0.0.1",
      GRPC_PORT: String(grpcPort),
      CONNECT_PORT: String(connectPort),
      GATEWAY_PORT: String(gatewayPort),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` });
  const health = createClient(Health, transport);
  for (;;) {
    if (gone) throw new Error(`mlmesh serve exited before serving: ${stderr}`);
    if (performance.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`mlmesh serve not serving after ${timeoutMs} ms: ${stderr}`);
    }
    const status = await health.check({ service: "" }, { timeoutMs: 1000 }).then(
      (r) => r.status,
      () => undefined,
    );
    if (status === HealthCheckResponse_ServingStatus.SERVING) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const servingMs = performance.now() - started;
  return {
    child,
    grpcPort,
    adminPort,
    servingMs,
    stop: async () => {
      if (!gone) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A metric's value (summed over its series) from the process's /metrics. */
export async function metricValue(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Waits until the match area's profile store reports itself filled; milliseconds waited. */
export async function untilProfileStoreFilled(adminPort: number, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  while ((await metricValue(adminPort, "mlmesh_match_profile_store_filled")) !== 1) {
    if (performance.now() - started > timeoutMs) throw new Error(`profile store not filled after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return performance.now() - started;
}
