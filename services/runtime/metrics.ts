import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { FastCounter, FastHistogram } from "./fast-metrics.js";

/**
 * The process's metrics. RPC metrics are per method and transport; model and
 * cache metrics keep the predecessor's ml_* names so existing dashboards work.
 */
export class MeshMetrics {
  readonly registry = new Registry();

  readonly rpcRequests = new FastCounter({
    name: "mlmesh_rpc_requests_total",
    help: "RPCs handled, by service, method, final status code and transport.",
    labelNames: ["service", "method", "code", "transport"] as const,
    registers: [this.registry],
  });

  readonly rpcErrors = new FastCounter({
    name: "mlmesh_rpc_errors_total",
    help: "RPCs that ended with a status other than OK, by code.",
    labelNames: ["service", "method", "code", "transport"] as const,
    registers: [this.registry],
  });

  readonly rpcDuration = new FastHistogram({
    name: "mlmesh_rpc_duration_seconds",
    help: "Server-side RPC latency, from decoded request to response.",
    labelNames: ["service", "method", "transport"] as const,
    // Fine between 1 and 5 ms, where the latency targets are (1, 2 and 5 ms).
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
      30,
    ],
    registers: [this.registry],
  });

  readonly keyRequests = new FastCounter({
    name: "mlmesh_api_key_requests_total",
    help: "Calls by the API key's name (never the key), the scope the method needs, and whether the key held it (allowed, denied).",
    labelNames: ["key", "scope", "outcome"] as const,
    registers: [this.registry],
  });

  // The predecessor's names, for the model-serving RPCs.
  readonly inferenceRequests = new FastCounter({
    name: "ml_inference_requests_total",
    help: "Model-serving requests, by model.",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });

  readonly modelVersionRequests = new FastCounter({
    name: "mlmesh_model_requests_total",
    help: "Model-serving requests by model and the version that answered (A/B arms, before and after a swap).",
    labelNames: ["model", "version"] as const,
    registers: [this.registry],
  });

  readonly inferenceErrors = new FastCounter({
    name: "ml_inference_errors_total",
    help: "Model-serving requests that failed, by model.",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });

  readonly inferenceDuration = new FastHistogram({
    name: "ml_inference_duration_seconds",
    help: "Model-serving request latency, by model.",
    labelNames: ["model"] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  readonly cacheHits = new FastCounter({
    name: "ml_cache_hits_total",
    help: "Cache hits, by cache.",
    labelNames: ["cache"] as const,
    registers: [this.registry],
  });

  readonly cacheMisses = new FastCounter({
    name: "ml_cache_misses_total",
    help: "Cache misses (including bypasses while the cache store is down), by cache.",
    labelNames: ["cache"] as const,
    registers: [this.registry],
  });

  readonly cacheBypasses = new FastCounter({
    name: "mlmesh_cache_bypass_total",
    help: "Cache lookups skipped because the cache store (Redis) was unreachable, by cache.",
    labelNames: ["cache"] as const,
    registers: [this.registry],
  });

  readonly batchSize = new FastHistogram({
    name: "ml_prediction_batch_size",
    help: "Requests coalesced into one model execution, by model.",
    labelNames: ["model"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly batchQueueSeconds = new FastHistogram({
    name: "mlmesh_batch_queue_seconds",
    help: "Time a request waited in the batcher before its model execution started.",
    labelNames: ["model"] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
    registers: [this.registry],
  });

  readonly batchComputeSeconds = new FastHistogram({
    name: "mlmesh_batch_compute_seconds",
    help: "Duration of one model execution (one batch).",
    labelNames: ["model"] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });

  readonly modelExecutions = new FastCounter({
    name: "mlmesh_model_executions_total",
    help: "Model executions (onnxruntime runs); compare with ml_inference_requests_total to see batching.",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });

  readonly modelMemory = new Gauge({
    name: "ml_model_memory_bytes",
    help: "Size of the loaded model artefact, by model and version.",
    labelNames: ["model", "version"] as const,
    registers: [this.registry],
  });

  readonly modelLoadSeconds = new Gauge({
    name: "ml_model_load_time_seconds",
    help: "Time to load and warm the serving model, by model.",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });

  readonly workerPoolTasks = new FastCounter({
    name: "mlmesh_worker_pool_tasks_total",
    help: "Tasks (forecast fits) by pool and outcome: completed, failed, rejected (queue full), dropped (caller gone while it waited), stopped (caller gone while it ran: its thread was recycled).",
    labelNames: ["pool", "outcome"] as const,
    registers: [this.registry],
  });

  readonly workerPoolQueued = new Gauge({
    name: "mlmesh_worker_pool_queued",
    help: "Tasks waiting for a worker thread, by pool.",
    labelNames: ["pool"] as const,
    registers: [this.registry],
  });

  readonly workerPoolRunning = new Gauge({
    name: "mlmesh_worker_pool_running",
    help: "Tasks running on a worker thread, by pool.",
    labelNames: ["pool"] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
