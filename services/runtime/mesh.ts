import * as grpc from "@grpc/grpc-js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { AdminServer } from "./admin.js";
import type { Area, AreaFactory } from "./area.js";
import { authFor } from "./auth.js";
import type { MeshConfig } from "./config.js";
import type { Metadata } from "./context.js";
import { HealthState, healthService, ServingStatus } from "./health.js";
import { log, setLogLevel } from "./log.js";
import { MeshMetrics } from "./metrics.js";
import { projectRoot } from "./paths.js";
import { Pipeline, type BoundService } from "./pipeline.js";
import { ReflectionIndex } from "./reflection.js";
import { openDatabase, type Database } from "./storage/database.js";
import { migrate } from "./storage/migrations.js";
import { connectRedis, redactUrl } from "./storage/redis.js";
import { installTracing } from "./tracing.js";
import { connectHandler } from "./transports/connect.js";
import { withCors } from "./transports/cors.js";
import { addToGrpcServer } from "./transports/grpc.js";
import { addReflectionToGrpcServer } from "./transports/grpc-reflection.js";
import { H2cOrHttp1Server } from "./transports/h2c-or-http1.js";
import { RestGateway } from "./transports/rest.js";
import { StreamLimits } from "./stream-limits.js";
import { guardHttp1, http1Options, listenerLimits } from "./transports/listener-limits.js";
import { RequestValidator } from "./validation.js";

/** The REST surface's OpenAPI document, written by `make openapi`. */
function openApiHandler(): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const path = join(projectRoot(), "build/openapi/mlmesh.swagger.json");
  return (_req, res) => {
    if (!existsSync(path)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("no OpenAPI document: run `make openapi`\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(path));
  };
}

export interface MeshPorts {
  grpc: number;
  connect: number;
  admin: number;
  gateway: number;
}

export interface Mesh {
  readonly ports: MeshPorts;
  readonly health: HealthState;
  readonly metrics: MeshMetrics;
  readonly db: Database;
  readonly admin: AdminServer;
  readonly gateway: RestGateway;
  /** Re-reads MLMESH_API_KEYS_FILE now (SIGHUP); false when it was bad and the old keys stay. */
  reloadKeys(): boolean;
  /**
   * Health NOT_SERVING, keep serving for the drain delay (MLMESH_SHUTDOWN_DRAIN_MS), end open streams with
   * UNAVAILABLE, stop taking calls (GOAWAY), let in-flight ones finish (up to the grace period), then close.
   */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  areas: readonly AreaFactory[];
  /** Records every span (tests), besides the exporters OTEL_* configures. */
  spanExporter?: SpanExporter;
}

/** Starts one process with four ports: gRPC, Connect, REST gateway and admin. */
export async function startMesh(config: MeshConfig, options: StartOptions): Promise<Mesh> {
  setLogLevel(config.logLevel);
  const tracing = installTracing(config.tracing, { serviceName: "mlmesh", exporter: options.spanExporter });
  const tracer = tracing.tracer;
  const metrics = new MeshMetrics();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db.sql);
  const redis = connectRedis(config.redisUrl, "serve");

  // Set up side by side: one area's reads and loads (word vectors, ONNX sessions, registry artefacts) wait on
  // disk, PostgreSQL and Redis while another computes, and a start takes about its slowest area, not their sum.
  const areas: Area[] = [];
  const built = await Promise.allSettled(options.areas.map((factory) => factory({ config, db, redis, metrics, areas: () => areas })));
  const failed = built.find((b): b is PromiseRejectedResult => b.status === "rejected");
  if (failed) {
    // The ones that started are closed, so a failed start leaves no listener or timer behind.
    for (const b of built) if (b.status === "fulfilled") await b.value.close?.().catch(() => undefined);
    redis.disconnect();
    await db.close();
    throw failed.reason;
  }
  for (const b of built) if (b.status === "fulfilled") areas.push(b.value);

  const auth = authFor(config);
  auth.keys.watch();
  const limits = listenerLimits(config);
  const streams = new StreamLimits(config.maxWatchesPerConnection, config.maxWatches);
  const pipeline = new Pipeline({ auth, validator: new RequestValidator(), metrics, tracer, streams });
  const health = new HealthState(areas.map((a) => a.service.typeName));
  const bound: BoundService[] = areas.map((a) => pipeline.bind(a.service, a.impl, { scopes: a.scopes, open: a.open }));
  const healthBound = pipeline.bind(Health, healthService(health), { open: true });

  const grpcServer = new grpc.Server({
    "grpc.max_receive_message_length": config.maxMessageBytes,
    "grpc.max_send_message_length": config.maxMessageBytes,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_concurrent_streams": limits.maxStreamsPerConnection,
    "grpc.max_connection_idle_ms": limits.idleTimeoutMs,
    // grpc-js disables Node's per-session memory cap by default; a client that never reads would grow it without bound.
    "grpc-node.max_session_memory": 64,
    "grpc.max_metadata_size": limits.maxHeaderBytes,
    // Nothing serves or reads channelz here; left on, grpc-js counts every call and stream for it on the way.
    "grpc.enable_channelz": 0,
  });
  for (const b of [...bound, healthBound]) addToGrpcServer(grpcServer, b);
  if (config.reflection !== "off") {
    const admitReflection = config.reflection === "key" ? (headers: Metadata) => void auth.authenticate(headers) : undefined;
    addReflectionToGrpcServer(grpcServer, new ReflectionIndex([...areas.map((a) => a.service), Health]), streams, admitReflection);
  }
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync(`${config.host}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );

  const connect = new H2cOrHttp1Server(
    withCors(connectHandler([...bound, healthBound], { readMaxBytes: config.maxMessageBytes }), config.corsOrigins),
    limits,
  );
  const connectPort = await connect.listen(config.connectPort, config.host);

  const gateway = new RestGateway(bound, { maxBodyBytes: config.maxMessageBytes });
  const gatewayServer = http.createServer(http1Options(limits), gateway.handle);
  guardHttp1(gatewayServer, "rest");
  const gatewayPort = await new Promise<number>((resolve, reject) => {
    gatewayServer.once("error", reject);
    gatewayServer.listen(config.gatewayPort, config.host, () => resolve((gatewayServer.address() as { port: number }).port));
  });

  const notReady = async (): Promise<string[]> => {
    const problems: string[] = [];
    if (!(await db.ping())) problems.push(`database unreachable (${db.kind} at ${db.location})`);
    for (const a of areas) if (a.notReady) problems.push(...(await a.notReady()));
    if (health.get("") !== ServingStatus.SERVING) problems.push("not serving (starting or shutting down)");
    return problems;
  };
  const admin = new AdminServer(limits, metrics, notReady, (headers) => auth.tryAuthenticate(headers));
  admin.mount("/openapi.json", openApiHandler(), { auth: false });
  for (const a of areas) for (const page of a.admin ?? []) admin.mount(page.prefix, page.handler, { auth: page.scopes });
  const adminPort = await admin.listen(config.adminPort, config.host);

  // Ready only when storage answers and every area has loaded and warmed its models.
  const areaProblems = async () => (await notReady()).filter((p) => !p.startsWith("not serving"));
  const nowServing = () => {
    health.setAll(ServingStatus.SERVING);
    for (const a of areas) a.serving?.();
  };
  const pending = await areaProblems();
  if (pending.length === 0) nowServing();
  else {
    log.warn("not ready yet", { problems: pending });
    const timer = setInterval(async () => {
      if ((await areaProblems()).length === 0) {
        clearInterval(timer);
        nowServing();
        log.info("ready");
      }
    }, 500);
    timer.unref();
  }

  const ports = { grpc: grpcPort, connect: connectPort, admin: adminPort, gateway: gatewayPort };
  log.info("mesh started", {
    ports,
    database: `${db.kind} ${db.location}`,
    redis: redactUrl(config.redisUrl),
    auth: config.authDisabled ? "disabled" : { keys: auth.keys.names, file: config.apiKeysFile },
    reflection: config.reflection,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      log.info("shutting down: health NOT_SERVING, finishing in-flight calls", {
        inFlight: pipeline.activeCalls,
        drainMs: config.shutdownDrainMs,
      });
      health.setAll(ServingStatus.NOT_SERVING);
      // Behind a proxy: keep serving whatever still arrives until its health checks have seen NOT_SERVING and
      // taken this replica out; closing the listeners first would fail the calls it sends meanwhile.
      if (config.shutdownDrainMs > 0) await new Promise((r) => setTimeout(r, config.shutdownDrainMs));
      // Streams never finish by themselves: end them with a status clients retry, so they reconnect elsewhere.
      pipeline.endStreams();
      const grpcDrained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      const closed = Promise.all([connect.close(), new Promise<void>((r) => gatewayServer.close(() => r()))]);
      gatewayServer.closeIdleConnections();
      const graceOver = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), config.shutdownGraceMs).unref());
      const outcome = await Promise.race([Promise.all([pipeline.idle(), grpcDrained]).then(() => "drained" as const), graceOver]);
      if (outcome === "timeout") {
        log.warn("grace period over: aborting remaining calls", { inFlight: pipeline.activeCalls });
        pipeline.abortAll();
        grpcServer.forceShutdown();
      }
      connect.destroy();
      gatewayServer.closeAllConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      for (const a of areas) await a.close?.();
      await admin.close();
      auth.keys.close();
      redis.disconnect();
      await db.close();
      // Last, so the spans of the calls that drained (and of a worker inside this process) are exported before exit.
      await tracing.shutdown();
      log.info("stopped");
    })());

  const reloadKeys = () => auth.keys.reload("reload requested (SIGHUP)", true);
  return { ports, health, metrics, db, admin, gateway, shutdown, reloadKeys };
}
