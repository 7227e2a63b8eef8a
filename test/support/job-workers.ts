import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Starts test/fixtures/job-worker.ts (or another worker program) in its own process and waits until it takes jobs. */
export async function startWorkerProcess(env: Record<string, string>, program = "test/fixtures/job-worker.ts"): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", program], {
    env: { ...process.env, MLMESH_AUTH_DISABLED: "true", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  return { child, exited };
}
