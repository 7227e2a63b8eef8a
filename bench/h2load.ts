import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { percentile } from "./percentile.js";

const run = promisify(execFile);

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** Requests answered with an HTTP status other than 200 (a proxy's 502 or 503). */
  non200: number;
}

/**
 * Drives one method with h2load (C, nghttp2) using a pre-encoded request
 * body (a gRPC frame unless `contentType` says otherwise), and reads
 * per-request latencies from its log file to get percentiles (h2load's own
 * summary has only mean and sd). `h1` speaks HTTP/1.1 instead of h2c: one
 * request at a time per connection, so `clients` is what is in flight.
 */
export async function h2load(options: {
  url: string;
  frame: Uint8Array;
  headers: Record<string, string>;
  clients: number;
  streamsPerClient: number;
  seconds: number;
  warmupSeconds: number;
  /** Default `application/grpc` (with `te: trailers`). */
  contentType?: string;
  h1?: boolean;
  /** Requests per second per client (h2load --rps): a steady offered load instead of as fast as answers come. */
  rpsPerClient?: number;
}): Promise<LoadResult & { command: string }> {
  const contentType = options.contentType ?? "application/grpc";
  const dir = mkdtempSync(join(tmpdir(), "mlmesh-h2load-"));
  try {
    const body = join(dir, "request.bin");
    const logFile = join(dir, "requests.log");
    writeFileSync(body, options.frame);
    const args = [
      ...(options.h1 ? ["--h1"] : []),
      ...(options.rpsPerClient ? ["--rps", String(options.rpsPerClient)] : []),
      "-c",
      String(options.clients),
      "-m",
      String(options.streamsPerClient),
      "-t",
      "1",
      "-D",
      String(options.seconds),
      "--warm-up-time",
      String(options.warmupSeconds),
      "-d",
      body,
      "-H",
      `content-type: ${contentType}`,
      ...(contentType === "application/grpc" ? ["-H", "te: trailers"] : []),
      ...Object.entries(options.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
      "--log-file",
      logFile,
      options.url,
    ];
    const { stdout } = await run("h2load", args, { maxBuffer: 16 * 1024 * 1024 });
    const logged = readFileSync(logFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t"));
    const non200 = logged.filter((cols) => cols[1] !== "200").length;
    const latenciesUs = logged
      .filter((cols) => cols[1] === "200")
      .map((cols) => Number(cols[2]))
      .sort((a, b) => a - b);
    const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? NaN);
    const failed = Number(/requests: .* (\d+) failed/.exec(stdout)?.[1] ?? 0);
    const pct = (p: number) => percentile(latenciesUs, p) / 1000;
    const command = `h2load ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`.replaceAll(dir, "$TMP");
    return { requests: latenciesUs.length, rps, p50Ms: pct(0.5), p99Ms: pct(0.99), failed, non200, command };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The gRPC length-prefixed message frame: flag byte, big-endian length, bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}
