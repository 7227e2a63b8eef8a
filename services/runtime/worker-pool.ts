import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * The worker thread's program: import the domain module and run its exported
 * functions on request. Plain JavaScript, so it needs no loader; a TypeScript
 * module (tests and scripts run from source) is imported through tsx's API.
 * Own enumerable error fields (field, rule...) cross back; stacks stay here.
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
    parentPort.postMessage({ id: msg.id, ok: true, value: await fn(...msg.args) });
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
}

/**
 * Runs CPU-heavy domain functions (model fitting) on worker threads, so one
 * long fit does not stall every other call on the event loop. The worker
 * module exports plain functions; tasks queue when every worker is busy.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    readonly size = Math.max(1, availableParallelism() - 1),
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  run<T>(fn: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, fn, args, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.moduleUrl.href } });
    worker.on("message", (msg: { id: number; ok: boolean; value?: unknown; error?: { name: string; message: string; props: Record<string, unknown> } }) => {
      const task = this.busy.get(worker);
      if (!task || task.id !== msg.id) return;
      this.busy.delete(worker);
      this.idle.push(worker);
      if (msg.ok) task.resolve(msg.value);
      else {
        const err = Object.assign(new Error(msg.error!.message), msg.error!.props);
        err.name = msg.error!.name;
        task.reject(err);
      }
      this.dispatch();
    });
    worker.on("error", (err) => {
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      task?.reject(err);
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
      const task = this.queue.shift()!;
      this.busy.set(worker, task);
      worker.postMessage({ id: task.id, fn: task.fn, args: task.args });
    }
  }
}
