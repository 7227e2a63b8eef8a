import { ClientError, type ClientMiddleware, Metadata, Status } from "nice-grpc";

/** Call options the deadline middleware reads. */
export interface DeadlineOptions {
  /** Milliseconds the whole call may take, retries included (overrides the client's default), or an absolute Date. */
  deadline?: number | Date;
}

/**
 * Gives every call a deadline: the one passed with the call, else the
 * client's default. The call is cancelled when it passes (DEADLINE_EXCEEDED),
 * and the server is told the time left in `grpc-timeout` so it stops working
 * on an answer nobody waits for. Sits outside the retry middleware, so
 * retries share the one deadline.
 */
export function deadlineMiddleware(defaultMs: number | undefined): ClientMiddleware<DeadlineOptions> {
  return async function* deadline(call, options) {
    const { deadline: given, signal, ...rest } = options;
    const chosen = given ?? defaultMs;
    if (chosen === undefined) return yield* call.next(call.request, { ...rest, signal });
    const at = chosen instanceof Date ? chosen.getTime() : Date.now() + chosen;
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    if (signal?.aborted) controller.abort();
    let expired = false;
    const timer = setTimeout(
      () => {
        expired = true;
        controller.abort();
      },
      Math.max(0, at - Date.now()),
    );
    try {
      return yield* call.next(call.request, { ...rest, signal: controller.signal, metadata: withTimeout(rest.metadata, at) });
    } catch (err) {
      if (expired) throw new ClientError(call.method.path, Status.DEADLINE_EXCEEDED, "deadline exceeded (client)");
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    }
  };
}

/** The call's metadata with `grpc-timeout`, the time left in milliseconds (at least 1). */
function withTimeout(metadata: Metadata | undefined, at: number): Metadata {
  const copy = Metadata(metadata);
  copy.set("grpc-timeout", `${Math.max(1, Math.ceil(at - Date.now()))}m`);
  return copy;
}
