import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { fromJson } from "@bufbuild/protobuf";
import { expect } from "vitest";
import { ForecastDemandRequestSchema, ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { TEST_KEY } from "../support/mesh.js";

export interface Ports {
  grpc: number;
  connect: number;
  admin: number;
  gateway: number;
}

export const SAMPLE_FORECAST = readFileSync("scripts/samples/forecast-demand.json", "utf8");

/**
 * The real `mlmesh serve` in a child process, as a hostile client meets it.
 * The child binds its own ports (0) and reports them in its "mesh started"
 * log line, so no port is picked free and then raced for.
 */
export class MeshProcess {
  private stderr = "";
  private exitCode: number | null | undefined;
  ports!: Ports;
  private client!: RawGrpcClient;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    child.once("exit", (code) => (this.exitCode = code));
  }

  static async start(env: Record<string, string>): Promise<MeshProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "serve"], {
      env: {
        ...process.env,
        GRPC_PORT: "0",
        CONNECT_PORT: "0",
        ADMIN_PORT: "0",
        GATEWAY_PORT: "0",
        MLMESH_HOST: "127.0.0.1",
        MLMESH_API_KEYS: TEST_KEY,
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const mesh = new MeshProcess(child);
    mesh.ports = await new Promise<Ports>((resolve, reject) => {
      const onData = () => {
        for (const line of mesh.stderr.split("\n")) {
          if (!line.includes('"mesh started"')) continue;
          child.stderr.off("data", onData);
          resolve((JSON.parse(line) as { ports: Ports }).ports);
          return;
        }
      };
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`mlmesh serve exited ${code}:\n${mesh.stderr}`)));
    });
    // A connection of its own: grpc-js shares one per target between clients, and an attack may hold that one.
    mesh.client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`, { "grpc.use_local_subchannel_pool": 1 });
    // Ready when the whole server reports SERVING (models loaded); the test's hook timeout bounds the wait.
    for (;;) {
      if (!mesh.alive) throw new Error(`mlmesh serve exited:\n${mesh.stderr}`);
      const health = await mesh.client.unary(Health.method.check, { service: "" }, { deadlineMs: 2000 }).catch(() => undefined);
      if (health?.response.status === 1) return mesh;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Sends the process a signal (SIGHUP re-reads the key file). */
  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  get log(): string {
    return this.stderr;
  }

  /**
   * The process is alive, every port answers (health on gRPC and Connect, a
   * forecast on gRPC and REST, /healthz on admin), and nothing reached the
   * last-resort handler.
   */
  async assertHealthy(): Promise<void> {
    expect(this.alive, `the mesh exited:\n${this.stderr.slice(-4000)}`).toBe(true);
    const health = await this.client.unary(Health.method.check, { service: "" }, { deadlineMs: 30_000 });
    expect(health.response.status).toBe(1);
    const request = fromJson(ForecastDemandRequestSchema, JSON.parse(SAMPLE_FORECAST));
    const forecast = await this.client.unary(ForecastService.method.forecastDemand, request, {
      metadata: { authorization: `Bearer ${TEST_KEY}` },
      deadlineMs: 60_000,
    });
    expect(forecast.response.predictions.length).toBeGreaterThan(0);
    const connect = await httpRequest(this.ports.connect, "POST", "/grpc.health.v1.Health/Check", "{}", {
      "content-type": "application/json",
    });
    expect(connect.status, connect.body).toBe(200);
    const rest = await httpRequest(this.ports.gateway, "POST", "/forecast/demand", SAMPLE_FORECAST, {
      "content-type": "application/json",
      authorization: `Bearer ${TEST_KEY}`,
    });
    expect(rest.status, rest.body).toBe(200);
    const admin = await httpRequest(this.ports.admin, "GET", "/healthz");
    expect(admin.status).toBe(200);
    expect(this.stderr).not.toMatch(/last-resort|uncaught|unhandled/i);
  }

  async stop(): Promise<void> {
    this.client?.close();
    if (this.exitCode !== undefined) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One HTTP/1.1 request on a fresh connection. */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
