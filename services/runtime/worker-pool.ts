import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * The worker thread's program: import the domain module and run its exported
 * functions on request. Plain JavaScript, so it needs no loader; a TypeScript
 * module (tests and scripts run from source) is imported through tsx's API.
 * Own enumerable error fields (field, rule...) cross back; stacks stay here.
 * A task run with onProgress gets, as its last argument, a function that
 * reports progress (any arguments) back to the caller.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const loaded = workerData.module.endsWith(".ts")
  ? import("tsx/esm/api").then((api) => api.tsImport(workerData.module, workerData.module))
  : import(workerData.module);
parentPort.on("message", async (msg) => {
  try {
    const mod = await loaded;
    const fn = mod[msg.fn];
    if (typeof fn !== "function") throw new Error("worker module has no function " + msg.fn);
    const args = msg.progress ? [...msg.args, (...report) => parentPort.postMessage({ id: msg.id, progress: report })] : msg.args;
    parentPort.postMessage({ id: msg.id, ok: true, value: await fn(...args) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    parentPort.postMessage({ id: msg.id, ok: false, error: { name: e.name, message: e.message, props: { ...e } } });
  }
});
`;

interface Task {
  id: number;
  fn: string;
  args: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** Told of the task's progress reports, when it makes any. */
  onProgress?: (...report: unknown[]) => void;
  /** Stops listening to the caller's signal once the task has settled. */
  detach?: () => void;
}

/** How a task ended, for metrics. */
export type TaskOutcome = "completed" | "failed" | "rejected" | "dropped" | "stopped";

export interface WorkerPoolOptions {
  /** Names the pool in messages ("the forecast queue is full") and metrics. */
  name?: string;
  /**
   * Tasks that may wait for a busy worker; past it run() rejects with
   * RESOURCE_EXHAUSTED instead of queueing. Unbounded when not given.
   */
  maxQueued?: number;
  /** Told of every task's outcome and every change in the queue and in the running tasks. */
  observe?: {
    outcome(outcome: TaskOutcome): void;
    depth(queued: number, running: number): void;
  };
}

/**
 * Runs CPU-heavy domain functions (model fitting) on worker threads, so one
 * long fit does not stall every other call on the event loop. The worker
 * module exports plain functions; tasks queue when every worker is busy, up to
 * `maxQueued`. A task whose caller's signal fires is dropped from the queue,
 * or, if it is running, stopped by terminating its worker thread (a fit cannot
 * be interrupted otherwise), which a fresh thread then replaces: an abandoned
 * call never keeps a CPU busy.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  /** Workers terminated on purpose: their late events mean nothing. */
  private readonly retired = new WeakSet<Worker>();
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    readonly size = Math.max(1, availableParallelism() - 1),
    private readonly options: WorkerPoolOptions = {},
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  run<T>(fn: string, ...args: unknown[]): Promise<T> {
    return this.runWith<T>({}, fn, ...args);
  }

  /**
   * Runs fn(...args) on a worker; when `signal` fires first, the task is
   * dropped or stopped and rejects with the signal's reason. With
   * `onProgress`, fn gets a progress reporter as its last argument, and what
   * it reports is passed to onProgress.
   */
  runWith<T>(options: { signal?: AbortSignal; onProgress?: (...report: unknown[]) => void }, fn: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const max = this.options.maxQueued ?? Infinity;
    if (this.idle.length === 0 && this.queue.length >= max) {
      this.options.observe?.outcome("rejected");
      const name = this.options.name ?? "worker";
      return Promise.reject(
        new MeshError(
          Status.RESOURCE_EXHAUSTED,
          `the ${name} queue is full (${this.queue.length} waiting for ${this.size} worker thread${this.size === 1 ? "" : "s"}): retry later`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const task: Task = { id: this.nextId++, fn, args, resolve: resolve as (v: unknown) => void, reject, onProgress: options.onProgress };
      if (signal) {
        const onAbort = () => this.abandon(task, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        task.detach = () => signal.removeEventListener("abort", onAbort);
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopped = () => new MeshError(Status.UNAVAILABLE, "the server is shutting down");
    for (const t of this.queue.splice(0)) this.settle(t, undefined, false, stopped());
    const workers = [...this.idle, ...this.busy.keys()];
    for (const w of workers) this.retired.add(w);
    for (const t of this.busy.values()) this.settle(t, undefined, false, stopped());
    this.busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** The caller gave up: drop the task if it waits, stop its worker if it runs. */
  private abandon(task: Task, reason: unknown): void {
    const i = this.queue.indexOf(task);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(task, "dropped", false, reason);
      this.changed();
      return;
    }
    for (const [worker, running] of this.busy) {
      if (running !== task) continue;
      this.busy.delete(worker);
      this.retired.add(worker);
      worker.terminate().catch(() => undefined);
      if (!this.closed) this.idle.push(this.spawn());
      this.settle(task, "stopped", false, reason);
      this.dispatch();
      return;
    }
  }

  private settle(task: Task, outcome: TaskOutcome | undefined, ok: boolean, result: unknown): void {
    task.detach?.();
    if (outcome) this.options.observe?.outcome(outcome);
    if (ok) task.resolve(result);
    else task.reject(result);
  }

  private changed(): void {
    this.options.observe?.depth(this.queue.length, this.busy.size);
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.moduleUrl.href } });
    worker.on(
      "message",
      (msg: {
        id: number;
        ok: boolean;
        value?: unknown;
        error?: { name: string; message: string; props: Record<string, unknown> };
        progress?: unknown[];
      }) => {
        const task = this.busy.get(worker);
        if (!task || task.id !== msg.id) return;
        if (msg.progress) {
          task.onProgress?.(...msg.progress);
          return;
        }
        this.busy.delete(worker);
        this.idle.push(worker);
        if (msg.ok) this.settle(task, "completed", true, msg.value);
        else {
          const err = Object.assign(new Error(msg.error!.message), msg.error!.props);
          err.name = msg.error!.name;
          this.settle(task, "failed", false, err);
        }
        this.dispatch();
      },
    );
    worker.on("error", (err) => {
      if (this.retired.has(worker)) return;
      this.retired.add(worker);
      const idle = this.idle.indexOf(worker);
      if (idle >= 0) this.idle.splice(idle, 1);
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      if (task) this.settle(task, "failed", false, err);
      if (!this.closed) {
        this.idle.push(this.spawn());
        this.dispatch();
      }
    });
    worker.unref();
    return worker;
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      // Adaptive LIFO: first come, first served while the queue is short; once it backs up, the
      // newest task goes first. Under FIFO an overloaded pool only starts tasks whose callers are
      // about to give up; each is stopped (its thread recycled, cold again) at its deadline, and the
      // pool stays collapsed after the load has gone. The newest task has its whole deadline left.
      const task = this.queue.length > this.size ? this.queue.pop()! : this.queue.shift()!;
      this.busy.set(worker, task);
      worker.postMessage({ id: task.id, fn: task.fn, args: task.args, progress: task.onProgress !== undefined });
    }
    this.changed();
  }
}

/**
 * Runs one call of `fn` from `moduleUrl` on a thread of its own, then ends the
 * thread: for work that comes seldom and runs long (a training fit), which
 * must leave the event loop free meanwhile (a job worker's lock renewals, a
 * server's calls). When `signal` fires the thread is stopped.
 */
export async function runOnThread<T>(
  moduleUrl: URL,
  options: { signal?: AbortSignal; onProgress?: (...report: unknown[]) => void },
  fn: string,
  ...args: unknown[]
): Promise<T> {
  const pool = new WorkerPool(moduleUrl, 1);
  try {
    return await pool.runWith<T>(options, fn, ...args);
  } finally {
    await pool.close();
  }
}
