/**
 * Coalesces concurrent requests into one execution whose cost is mostly per
 * call: one onnxruntime run (a synchronous native call) for N pairs, one
 * PostgreSQL insert and one BullMQ addBulk for N submitted jobs. The batcher
 * trades at most `maxWaitMs` of queueing for that. A batch runs when it is full or when the first request
 * in it has waited `maxWaitMs`; with one request in flight and nothing else
 * queued it runs at once on the next macrotask, so a lone caller pays almost nothing.
 */
export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxWaitMs: number;
  run: (inputs: I[]) => Promise<O[]> | O[];
  /** Observations for metrics: batch size, time queued (per request) and compute time (per batch). */
  observe?: (batch: { size: number; queueSeconds: number[]; computeSeconds: number }) => void;
}

interface Pending<I, O> {
  input: I;
  enqueued: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class DynamicBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = 0;

  constructor(private readonly options: BatcherOptions<I, O>) {
    if (options.maxBatch < 1) throw new Error("maxBatch must be at least 1");
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, enqueued: performance.now(), resolve, reject });
      if (this.queue.length >= this.options.maxBatch) {
        this.flush();
      } else if (this.queue.length === 1) {
        // Let requests that arrive in the same tick join; then wait at most maxWaitMs.
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          if (this.running === 0) this.flush();
          else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
        });
      }
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      void this.execute(batch);
    }
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    this.running++;
    const started = performance.now();
    try {
      const outputs = await this.options.run(batch.map((p) => p.input));
      if (outputs.length !== batch.length) throw new Error(`batch run returned ${outputs.length} results for ${batch.length} inputs`);
      const computeSeconds = (performance.now() - started) / 1000;
      this.options.observe?.({
        size: batch.length,
        queueSeconds: batch.map((p) => (started - p.enqueued) / 1000),
        computeSeconds,
      });
      batch.forEach((p, i) => {
        p.resolve(outputs[i]);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running--;
      // Requests that queued while the model ran go next, without waiting out the timer.
      if (this.running === 0 && this.queue.length) this.flush();
    }
  }
}
