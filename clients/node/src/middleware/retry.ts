import { ClientError, type ClientMiddleware, Status } from "nice-grpc";
import { isIdempotent } from "../idempotency.js";

/** How calls are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  maxAttempts: number;
  /** The first backoff's upper bound; each further one doubles, up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000 };

/** Call options the retry middleware reads. */
export interface RetryOptions {
  /** false: this call is sent once, whatever its method. */
  retry?: boolean;
}

/**
 * Sends an idempotent unary call again when it fails UNAVAILABLE (the server
 * restarting, a connection refused or reset), after an exponential backoff
 * with full jitter so that many clients do not come back in step. Nothing else
 * is retried: another code is the server's answer, and a call that is not
 * idempotent (a submission without idempotency key) may already have taken
 * effect. The deadline middleware outside bounds the attempts together.
 */
export function retryMiddleware(policy: RetryPolicy): ClientMiddleware<RetryOptions> {
  return async function* retry(call, options) {
    const { retry: allowed = true, ...rest } = options;
    if (call.requestStream || call.responseStream || !allowed || !isIdempotent(call.method, call.request)) {
      return yield* call.next(call.request, rest);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return yield* call.next(call.request, rest);
      } catch (err) {
        if (!(err instanceof ClientError) || err.code !== Status.UNAVAILABLE || attempt >= policy.maxAttempts) throw err;
        if (rest.signal?.aborted) throw err;
        const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
        await sleep(Math.random() * cap, rest.signal);
      }
    }
  };
}

/** Waits, or stops waiting when the call is cancelled (its deadline included). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      if (signal?.aborted) reject(signal.reason ?? new Error("aborted"));
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
