import { create, toBinary, type DescMessage, type DescMethod, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { grpcFrame, h2load, type LoadResult } from "./h2load.js";

export interface MethodCase<I extends DescMessage = DescMessage> {
  /** Row label, e.g. "ScoreMatch". */
  name: string;
  service: DescService;
  method: DescMethod & { input: I };
  request: MessageInitShape<I>;
  /** Needs the API key (the baseline health check does not). */
  authenticated: boolean;
}

export interface MethodFigures {
  name: string;
  one: LoadResult;
  many: LoadResult;
}

/**
 * Each method at 1 request in flight (latency) and at 64 in flight (4
 * connections × 16 streams: throughput), after checking once that the
 * pre-encoded request really succeeds, since h2load only sees HTTP 200 and a
 * gRPC error would hide in the trailers.
 */
export async function benchMethods(options: {
  port: number;
  apiKey: string;
  cases: MethodCase[];
  seconds: number;
}): Promise<{ figures: MethodFigures[]; commands: string[] }> {
  const figures: MethodFigures[] = [];
  const commands: string[] = [];
  for (const c of options.cases) {
    const headers: Record<string, string> = c.authenticated ? { authorization: `Bearer ${options.apiKey}` } : {};
    const client = createClient(c.service, createGrpcTransport({ baseUrl: `http://127.0.0.1:${options.port}` })) as unknown as Record<
      string,
      (req: unknown, opts: unknown) => Promise<unknown>
    >;
    await client[c.method.localName](c.request, { headers });
    const frame = grpcFrame(toBinary(c.method.input, create(c.method.input, c.request)));
    const url = `http://127.0.0.1:${options.port}/${c.service.typeName}/${c.method.name}`;
    const common = { url, frame, headers, seconds: options.seconds, warmupSeconds: 1 };
    const one = await h2load({ ...common, clients: 1, streamsPerClient: 1 });
    const many = await h2load({ ...common, clients: 4, streamsPerClient: 16 });
    commands.push(one.command, many.command);
    figures.push({ name: c.name, one, many });
  }
  return { figures, commands };
}

/**
 * A method's throughput against the baseline's at 64 in flight, in rounds
 * that alternate the two, so that a slow spell of a shared machine lands on
 * both sides of a ratio instead of on one row of the table.
 */
export async function pairedThroughput(options: {
  port: number;
  apiKey: string;
  baseline: MethodCase;
  target: MethodCase;
  seconds: number;
  rounds: number;
}): Promise<{ ratios: number[]; median: number }> {
  const load = (c: MethodCase) =>
    h2load({
      url: `http://127.0.0.1:${options.port}/${c.service.typeName}/${c.method.name}`,
      frame: grpcFrame(toBinary(c.method.input, create(c.method.input, c.request))),
      headers: c.authenticated ? { authorization: `Bearer ${options.apiKey}` } : {},
      seconds: options.seconds,
      warmupSeconds: 1,
      clients: 4,
      streamsPerClient: 16,
    });
  const ratios: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const base = await load(options.baseline);
    const target = await load(options.target);
    ratios.push(target.rps / base.rps);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  return { ratios, median: sorted[Math.floor(sorted.length / 2)] };
}
