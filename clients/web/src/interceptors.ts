import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Sends the API key as `authorization: Bearer <key>` (the mesh also takes
 * `x-api-key`), unless the call brings its own. In a browser the key is
 * visible to the page's users: give a browser app a key of its own.
 */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization") && !req.header.has("x-api-key")) req.header.set("authorization", `Bearer ${apiKey}`);
    return await next(req);
  };
}

/**
 * Gives a call without a timeout of its own (the call option `timeoutMs`)
 * the default one: the server is told in `connect-timeout-ms` and stops
 * working on it, and the fetch is aborted when it passes (DEADLINE_EXCEEDED).
 */
export function deadlineInterceptor(defaultMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.header.has("connect-timeout-ms") || req.header.has("grpc-timeout")) return await next(req);
    req.header.set("connect-timeout-ms", String(defaultMs));
    const controller = new AbortController();
    const abort = () => controller.abort(req.signal.reason);
    req.signal.addEventListener("abort", abort);
    if (req.signal.aborted) abort();
    const timer = setTimeout(() => controller.abort(new ConnectError("deadline exceeded (client)", Code.DeadlineExceeded)), defaultMs);
    try {
      return await next({ ...req, signal: controller.signal });
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", abort);
    }
  };
}
