import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { Transport } from "./context.js";
import type { MeshMetrics } from "./metrics.js";
import { Status, statusName } from "./status.js";

/**
 * One method's RPC metrics: requests and errors by status and transport, and
 * duration by transport. Label lookups hash their values on every call; the
 * children are kept instead.
 */
export class MethodMetrics {
  private readonly durations = new Map<Transport, { observe(seconds: number): void }>();
  private readonly counters = new Map<string, { requests: { inc(): void }; errors: { inc(): void } }>();

  constructor(
    private readonly metrics: MeshMetrics,
    private readonly service: DescService,
    private readonly method: DescMethod,
  ) {}

  /** One call that ended with `code` after `seconds`. */
  record(transport: Transport, code: Status, seconds: number): void {
    const key = `${transport}:${code}`;
    let c = this.counters.get(key);
    if (!c) {
      const name = statusName(code);
      c = {
        requests: this.metrics.rpcRequests.labels(this.service.typeName, this.method.name, name, transport),
        errors: this.metrics.rpcErrors.labels(this.service.typeName, this.method.name, name, transport),
      };
      this.counters.set(key, c);
    }
    c.requests.inc();
    if (code !== Status.OK) c.errors.inc();
    this.durationFor(transport).observe(seconds);
  }

  private durationFor(transport: Transport): { observe(seconds: number): void } {
    let d = this.durations.get(transport);
    if (!d) this.durations.set(transport, (d = this.metrics.rpcDuration.labels(this.service.typeName, this.method.name, transport)));
    return d;
  }
}
