import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { parseArgs } from "./args.js";
import { ExitCode } from "./exit.js";

export const healthUsage = `mlmesh health [--addr 127.0.0.1:50051] [--service NAME] [--timeout-ms 2000]

Asks grpc.health.v1 on the gRPC port. Exits 0 when SERVING, 1 otherwise
(used by the container health check).`;

export async function health(args: string[]): Promise<number> {
  const { options } = parseArgs(args, { addr: "string", service: "string", "timeout-ms": "string", port: "string" });
  const addr = (options.addr as string) ?? `127.0.0.1:${(options.port as string) ?? process.env.GRPC_PORT ?? 50051}`;
  const client = createClient(Health, createGrpcTransport({ baseUrl: `http://${addr}` }));
  try {
    const res = await client.check({ service: (options.service as string) ?? "" }, { timeoutMs: Number(options["timeout-ms"] ?? 2000) });
    process.stdout.write(`${ServingStatus[res.status]}\n`);
    return res.status === ServingStatus.SERVING ? ExitCode.OK : ExitCode.FAILURE;
  } catch (err) {
    process.stderr.write(`health check failed: ${(err as Error).message}\n`);
    return ExitCode.FAILURE;
  }
}
