import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * The signal a handler sees: aborted when the client cancels, the deadline
 * passes, or the server gives up waiting at shutdown, with the status to
 * report. Built on first use (or at once when a deadline is set): most small
 * calls never look at it, and an AbortController per call shows in profiles.
 */
export class CallSignal {
  private controller: AbortController | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    /** The transport's side of the call: the client's signal and the deadline (ms since the epoch). */
    private readonly call: { readonly signal: AbortSignal | undefined; readonly deadline: number | undefined },
    /** Aborted when the server stops waiting for calls at shutdown. */
    private readonly stopping: AbortSignal,
  ) {
    if (call.deadline !== undefined) void this.signal;
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = (this.controller = new AbortController());
    const link = (source: AbortSignal, reason: () => MeshError) => {
      if (source.aborted) {
        controller.abort(reason());
        return;
      }
      const onAbort = () => controller.abort(reason());
      source.addEventListener("abort", onAbort, { once: true });
      this.cleanups.push(() => source.removeEventListener("abort", onAbort));
    };
    if (this.call.signal) link(this.call.signal, () => new MeshError(Status.CANCELLED, "the client cancelled the call"));
    link(this.stopping, () => new MeshError(Status.UNAVAILABLE, "the server is shutting down"));
    const deadline = this.call.deadline;
    if (deadline !== undefined) {
      const expired = () => new MeshError(Status.DEADLINE_EXCEEDED, "the deadline expired before the call finished");
      const remaining = deadline - Date.now();
      if (remaining <= 0) controller.abort(expired());
      else {
        const timer = setTimeout(() => controller.abort(expired()), remaining);
        this.cleanups.push(() => clearTimeout(timer));
      }
    }
    return controller.signal;
  }

  /** Settles with the handler, or sooner with the abort reason once a signal exists and fires. */
  race<T>(promise: Promise<T>): Promise<T> {
    return this.controller ? untilAborted(promise, this.controller.signal) : promise;
  }

  dispose(): void {
    for (const c of this.cleanups) c();
  }
}

/** Settles with the promise, or rejects with the abort reason as soon as the signal fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
