import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobQueueService, JobStatus, type Job } from "../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { parseArgs } from "./args.js";
import { codeName } from "./call.js";
import { CliUsageError, ExitCode } from "./exit.js";

export const jobsUsage = `mlmesh jobs watch JOB_ID [--addr 127.0.0.1:50051] [--key KEY]

Follows a job through WatchJob with a live progress bar until it ends; if the
stream drops (a server restarting), it reconnects and resumes from the current
state. The key defaults to $MLMESH_API_KEY.
Exit codes: 0 the job completed, 1 it failed or was cancelled (or the RPC
failed), 2 usage.`;

const RECONNECTS = 5;

export async function jobs(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { addr: "string", key: "string" });
  const [sub, jobId] = positional;
  if (sub !== "watch") throw new CliUsageError(`jobs: unknown subcommand '${sub ?? ""}' (known: watch)`);
  if (!jobId) throw new CliUsageError("jobs watch needs a JOB_ID");
  const addr = (options.addr as string) ?? `127.0.0.1:${process.env.GRPC_PORT ?? 50051}`;
  const key = (options.key as string) ?? process.env.MLMESH_API_KEY;
  const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://${addr}` }));
  const view = jobView(process.stderr);
  let last: Job | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const { job } of client.watchJob({ jobId }, { headers: key ? { authorization: `Bearer ${key}` } : {} })) {
        if (!job) continue;
        last = job;
        view.show(job);
      }
      break;
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Unavailable && attempt < RECONNECTS) {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        continue;
      }
      view.done();
      process.stderr.write(`ERROR ${codeName(e.code)}: ${e.rawMessage}\n`);
      return ExitCode.FAILURE;
    }
  }
  view.done();
  if (!last) return ExitCode.FAILURE;
  const status = JobStatus[last.status].toLowerCase();
  process.stdout.write(
    `${last.jobId} ${status}${last.error ? `: ${last.error}` : ""}${last.result ? ` ${JSON.stringify(last.result)}` : ""}\n`,
  );
  return last.status === JobStatus.COMPLETED ? ExitCode.OK : ExitCode.FAILURE;
}

/** A one-line bar on a terminal; a line per change otherwise (logs, CI). */
function jobView(stream: NodeJS.WriteStream) {
  let lastLine = "";
  return {
    show(job: Job) {
      const pct = Math.round(job.progressPercent);
      const status = JobStatus[job.status].toLowerCase().padEnd(9);
      const attempt = job.maxAttempts ? ` attempt ${job.attempts}/${job.maxAttempts}` : "";
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round((width * pct) / 100);
        stream.write(
          `\r\x1b[2K${status} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(pct).padStart(3)}%${attempt} ${job.progressMessage}`.slice(
            0,
            stream.columns || 200,
          ),
        );
      } else {
        const line = `${status.trim()} ${pct}%${attempt} ${job.progressMessage}`;
        if (line !== lastLine) stream.write(`${line}\n`);
        lastLine = line;
      }
    },
    done() {
      if (stream.isTTY) stream.write("\n");
    },
  };
}
