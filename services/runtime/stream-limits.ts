import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * Caps on long-lived streams (Health.Watch, WatchJob, reflection), per
 * connection and in total. A stream holds memory, a listener and often a
 * Redis subscription for as long as the client likes, so without a cap one
 * client could open streams until the process runs out of them. Past a cap the
 * call is refused with RESOURCE_EXHAUSTED before it holds anything.
 */
export class StreamLimits {
  private total = 0;
  private readonly perPeer = new Map<string, number>();

  constructor(
    readonly maxPerConnection: number,
    readonly maxTotal: number,
  ) {}

  get open(): number {
    return this.total;
  }

  /**
   * Takes a slot for a stream from `peer` (a connection's remote address and
   * port); returns the function that gives it back, idempotently.
   */
  acquire(peer: string | undefined, what: string): () => void {
    const key = peer ?? "";
    const mine = this.perPeer.get(key) ?? 0;
    if (this.total >= this.maxTotal) {
      throw new MeshError(Status.RESOURCE_EXHAUSTED, `too many open ${what} streams on this server (${this.maxTotal}): retry later`);
    }
    if (peer !== undefined && mine >= this.maxPerConnection) {
      throw new MeshError(Status.RESOURCE_EXHAUSTED, `too many open ${what} streams on this connection (${this.maxPerConnection})`);
    }
    this.total++;
    this.perPeer.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perPeer.get(key) ?? 1) - 1;
      if (left <= 0) this.perPeer.delete(key);
      else this.perPeer.set(key, left);
    };
  }
}
