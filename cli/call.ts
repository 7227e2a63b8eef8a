import { fromJson, toJson, type DescMethod, type JsonValue, type Message } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { contracts } from "../services/contracts.js";
import { parseArgs } from "./args.js";
import { CliUsageError, ExitCode } from "./exit.js";
import { Status, statusName } from "../services/runtime/status.js";

export const callUsage = `mlmesh call SERVICE.METHOD '{json}' [--addr 127.0.0.1:50051] [--key KEY] [--timeout-ms MS]

Calls one RPC on the gRPC port through the generated client, grpcurl-style:
the request and the response are proto3 JSON (snake_case names accepted).
SERVICE may be short (ForecastService) or full (mlmesh.forecast.v1.ForecastService);
"SERVICE/METHOD" works too. The key defaults to $MLMESH_API_KEY.
Server-streaming methods print one JSON object per line.
Exit codes: 0 OK, 1 the RPC failed (its gRPC code and message on stderr), 2 usage.`;

export async function call(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { addr: "string", key: "string", "timeout-ms": "string" });
  const [target, body = "{}"] = positional;
  if (!target) throw new CliUsageError("call needs SERVICE.METHOD");
  const { service, method } = resolve(target);
  let request: Message;
  try {
    request = fromJson(method.input, JSON.parse(body) as JsonValue);
  } catch (err) {
    throw new CliUsageError(`request is not a valid ${method.input.typeName}: ${(err as Error).message}`);
  }
  const addr = (options.addr as string) ?? `127.0.0.1:${process.env.GRPC_PORT ?? 50051}`;
  const key = (options.key as string) ?? process.env.MLMESH_API_KEY;
  const client = createClient(service, createGrpcTransport({ baseUrl: `http://${addr}` })) as unknown as Record<
    string,
    (req: unknown, opts: unknown) => unknown
  >;
  const callOptions = {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    timeoutMs: options["timeout-ms"] ? Number(options["timeout-ms"]) : undefined,
  };
  const print = (msg: unknown) =>
    process.stdout.write(`${JSON.stringify(toJson(method.output, msg as never, { useProtoFieldName: true }), null, 2)}\n`);
  try {
    if (method.methodKind === "server_streaming") {
      for await (const msg of client[method.localName](request, callOptions) as AsyncIterable<unknown>) print(msg);
    } else {
      print(await client[method.localName](request, callOptions));
    }
    return ExitCode.OK;
  } catch (err) {
    const e = ConnectError.from(err);
    process.stderr.write(`ERROR ${codeName(e.code)}: ${e.rawMessage}\n`);
    return ExitCode.FAILURE;
  }
}

function resolve(target: string): { service: DescService; method: DescMethod } {
  const sep = target.includes("/") ? target.lastIndexOf("/") : target.lastIndexOf(".");
  const serviceName = target.slice(0, sep);
  const methodName = target.slice(sep + 1);
  const service = contracts.find((s) => s.typeName === serviceName || s.name === serviceName);
  if (!service) {
    throw new CliUsageError(`unknown service '${serviceName}'; known: ${contracts.map((s) => s.name).join(", ")}`);
  }
  const method = service.methods.find((m) => m.name === methodName || m.localName === methodName);
  if (!method) {
    throw new CliUsageError(`unknown method '${methodName}' of ${service.name}; known: ${service.methods.map((m) => m.name).join(", ")}`);
  }
  return { service, method };
}

export function codeName(code: number): string {
  return code in Status ? statusName(code) : String(code);
}
