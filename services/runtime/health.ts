import { EventEmitter, on } from "node:events";
import { type Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { MeshError } from "./errors.js";
import type { ServiceImpl } from "./handler.js";
import { Status } from "./status.js";

export { ServingStatus };

/**
 * Serving status per service name ("" is the whole server), as
 * grpc.health.v1 reports it. Starts NOT_SERVING until the mesh is ready.
 */
export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly changes = new EventEmitter();

  constructor(services: readonly string[]) {
    this.changes.setMaxListeners(0);
    for (const s of ["", ...services]) this.statuses.set(s, ServingStatus.NOT_SERVING);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  setAll(status: ServingStatus): void {
    for (const s of this.statuses.keys()) this.set(s, status);
  }

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.changes.emit("change", service, status);
  }

  entries(): [string, ServingStatus][] {
    return [...this.statuses.entries()];
  }

  /** The current status, then every change, until the signal aborts. */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const events = on(this.changes, "change", { signal });
    let last = this.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
    yield last;
    try {
      for await (const [changed, status] of events as AsyncIterable<[string, ServingStatus]>) {
        if (changed !== service || status === last) continue;
        last = status;
        yield status;
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}

export function healthService(state: HealthState): ServiceImpl<typeof Health> {
  return {
    async check(request) {
      const status = state.get(request.service);
      if (status === undefined) throw new MeshError(Status.NOT_FOUND, `unknown service: ${request.service}`);
      return { status };
    },
    async *watch(request, ctx) {
      for await (const status of state.watch(request.service, ctx.signal)) yield { status };
    },
    async list() {
      return { statuses: Object.fromEntries(state.entries().map(([name, status]) => [name, { status }])) };
    },
  };
}
