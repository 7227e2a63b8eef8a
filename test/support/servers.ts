import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";

/**
 * Private PostgreSQL and Redis servers for a test run, on ports they bind
 * themselves. A port is never picked free and then handed over: a server is
 * started on a candidate port, and if it cannot bind it (another process has
 * it) it is started again on another. The port is known from its success.
 */

/** Candidate ports lie below Linux's ephemeral range (32768 on), where outgoing connections take theirs. */
const PORT_MIN = 15_000;
const PORT_MAX = 32_000;
const ATTEMPTS = 40;

function candidatePort(): number {
  return PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN));
}

const ADDRESS_IN_USE = /Address already in use|could not create any TCP\/IP sockets/i;

export const MISSING_SERVERS_HINT =
  "install Debian's postgresql and redis-server (bash scripts/test-deps.sh does), or point the tests at servers of your own " +
  "with TEST_DATABASE_URL=postgres://postgres@HOST:PORT/postgres (trust auth; the tests create databases there) and TEST_REDIS_URL=redis://HOST:PORT";

// ---------------------------------------------------------------- PostgreSQL

/** Debian's server binaries: /usr/lib/postgresql/<major>/bin, the newest major installed. */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0)
    throw new Error(`PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not in ${root}/*/bin: ${MISSING_SERVERS_HINT}`);
  return join(root, majors[0], "bin");
}

/**
 * How to run PostgreSQL's programs: PostgreSQL refuses to run as root, so as
 * root they run as the `postgres` system user (Debian's postgresql package
 * creates it) through runuser, and the directories they write are given to it.
 */
interface RunAs {
  prefix: string[];
  uid?: number;
  gid?: number;
}

function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      "the tests run as root, and PostgreSQL refuses to run as root: it runs as the `postgres` system user, which does not exist here. " +
        `Create it (Debian's postgresql package does: apt-get install postgresql), run the tests as another user, or ${MISSING_SERVERS_HINT.replace(/^install [^,]*, or /, "")}`,
    );
  }
  return { prefix: ["runuser", "-u", "postgres", "--"], uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function run(runAs: RunAs, cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const [file, ...rest] = [...runAs.prefix, cmd, ...args];
  const child = spawn(file, rest, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth). */
  readonly url: string;
  readonly dataDir: string;
  /** Stops it (fast shutdown: open sessions are ended). */
  stop(): Promise<void>;
}

/**
 * initdb in `dir`/pg and a postgres on 127.0.0.1, its socket in `dir`. Fsync
 * is off: the cluster is thrown away after the run. `dir` must exist.
 */
export async function startPostgres(dir: string, options: { port?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const runAs = postgresRunAs();
  if (runAs.uid !== undefined) chownSync(dir, runAs.uid, runAs.gid!);
  const dataDir = join(dir, "pg");
  const init = await run(runAs, join(bin, "initdb"), [
    "-D",
    dataDir,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
    "--no-sync",
    "--no-instructions",
  ]);
  if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}):\n${init.output}`);
  const pgCtl = join(bin, "pg_ctl");
  const stop = async () => {
    if (!existsSync(join(dataDir, "postmaster.pid"))) return;
    const r = await run(runAs, pgCtl, ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "60"]);
    if (r.code !== 0 && existsSync(join(dataDir, "postmaster.pid"))) throw new Error(`pg_ctl stop failed (exit ${r.code}):\n${r.output}`);
  };
  for (let attempt = 0; attempt < (options.port ? 1 : ATTEMPTS); attempt++) {
    const port = options.port ?? candidatePort();
    const logFile = join(dir, `postgres-${port}.log`);
    const settings = [
      "-c listen_addresses=127.0.0.1",
      `-p ${port}`,
      `-k ${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=200",
    ].join(" ");
    const started = await run(runAs, pgCtl, ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "120", "-o", settings]);
    if (started.code === 0) return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, dataDir, stop };
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    if (ADDRESS_IN_USE.test(log) && !options.port) continue; // another process has the port: try another
    await stop().catch(() => undefined);
    throw new Error(`postgres did not start on 127.0.0.1:${port} (pg_ctl exit ${started.code}):\n${started.output}\n${log}`);
  }
  throw new Error(`postgres could not bind any of ${ATTEMPTS} candidate ports`);
}

// ---------------------------------------------------------------- Redis

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly child: ChildProcess;
  /** Its output so far (the last 64 KiB), for error messages. */
  output(): string;
  /** SIGTERM (a clean shutdown: an AOF is flushed), and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * redis-server in the foreground as a child of this process, bound to
 * 127.0.0.1, keeping nothing on disk unless `args` says so (they are added
 * last, so they win). With `port`, that port only (a restart on the port it
 * had); without, candidate ports until one binds.
 */
export async function startRedis(dir: string, options: { port?: number; args?: string[] } = {}): Promise<RedisServer> {
  for (let attempt = 0; attempt < (options.port ? 1 : ATTEMPTS); attempt++) {
    const port = options.port ?? candidatePort();
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--logfile",
      "",
      ...(options.args ?? []),
    ];
    let child: ChildProcess;
    try {
      child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      throw new Error(`redis-server could not be started (${String(err)}): ${MISSING_SERVERS_HINT}`);
    }
    let output = "";
    const append = (d: Buffer) => {
      output = (output + d.toString()).slice(-65_536);
    };
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const outcome = await new Promise<"ready" | "exited" | Error>((resolve) => {
      child.on("error", (err) => resolve(err));
      child.stdout!.on("data", () => {
        if (/Ready to accept connections/.test(output)) resolve("ready");
      });
      void exited.then(() => resolve("exited"));
    });
    if (outcome === "ready") {
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        child,
        output: () => output,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    if (outcome instanceof Error) {
      const hint =
        (outcome as NodeJS.ErrnoException).code === "ENOENT" ? `redis-server is not installed: ${MISSING_SERVERS_HINT}` : String(outcome);
      throw new Error(hint);
    }
    if (ADDRESS_IN_USE.test(output) && !options.port) continue;
    throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${output}`);
  }
  throw new Error(`redis-server could not bind any of ${ATTEMPTS} candidate ports`);
}

// ---------------------------------------------------------------- clean-up guard

/**
 * A process of its own session that outlives this one only to clean up: when
 * this process exits, however it exits (a crash, SIGKILL, Ctrl-C), its end of
 * the pipe closes, and the guard stops the PostgreSQL in `dir`, kills the
 * redis-servers it was told of and removes `dir`. After a normal teardown it
 * finds nothing left to do.
 */
export class CleanupGuard {
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(dir: string) {
    const runAs = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
    let pgCtl = "pg_ctl";
    try {
      pgCtl = join(postgresBinDir(), "pg_ctl");
    } catch {
      // no PostgreSQL here: nothing of it to stop
    }
    const script = `
      dir=$1; shift
      pids=
      while read -r word pid; do [ "$word" = redis ] && pids="$pids $pid"; done
      for p in $pids; do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = redis-server ] && kill -TERM "$p" 2>/dev/null
      done
      [ -f "$dir/pg/postmaster.pid" ] && "$@" stop -D "$dir/pg" -m immediate -w -t 30 >/dev/null 2>&1
      for p in $pids; do
        n=0
        while [ "$(cat /proc/$p/comm 2>/dev/null)" = redis-server ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
      done
      rm -rf "$dir"
    `;
    this.child = spawn("/bin/sh", ["-c", script, "mlmesh-test-cleanup", dir, ...runAs, pgCtl], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    this.exited = once(this.child, "exit");
    this.child.unref();
    (this.child.stdin as Socket).unref();
  }

  /** Tells the guard of a redis-server to kill if this process dies. */
  watchRedis(pid: number | undefined): void {
    if (pid) this.child.stdin!.write(`redis ${pid}\n`);
  }

  /** Lets the guard run now (after a normal teardown there is nothing left for it) and waits for it. */
  async finish(): Promise<void> {
    this.child.ref(); // or this process could exit before the guard has finished
    this.child.stdin!.end();
    await this.exited;
  }
}

/** A directory for the servers' files, created 0700. */
export function makeDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
