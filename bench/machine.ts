import { execFileSync } from "node:child_process";
import os from "node:os";

/** One line describing where the figures were measured. */
export function describeMachine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  let h2loadVersion = "h2load not found";
  try {
    h2loadVersion = execFileSync("h2load", ["--version"], { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    // reported as missing
  }
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, ${h2loadVersion}`;
}
