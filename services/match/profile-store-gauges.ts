import { Gauge } from "prom-client";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { ProfileStore } from "./profile-store.js";

/**
 * The profile store on /metrics, read at each scrape: travellers held, bytes
 * held (its typed arrays' capacity: the memory it costs), and whether the
 * fill after start has finished (1) or not (0).
 */
export function profileStoreGauges(metrics: MeshMetrics, store: ProfileStore): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    "mlmesh_match_profile_store_travellers",
    "Travellers whose scoring features the profile store holds in process.",
    () => store.status().travellers,
  );
  gauge("mlmesh_match_profile_store_bytes", "Bytes the profile store holds (typed arrays, by capacity).", () => store.status().bytes);
  gauge(
    "mlmesh_match_profile_store_filled",
    "1 once the profile store has been filled from the travellers table since start or since its last reset.",
    () => (store.status().filled ? 1 : 0),
  );
}
