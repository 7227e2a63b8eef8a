import { ModelRegistry, MODELS } from "../registry/index.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import type { PopulationPrior } from "./model/engagement.js";
import { learnPrior } from "./prior.js";
import { priorFromArtefact } from "./training.js";

/** The prior serving uses, and where it came from: a registry version, or learned here. */
export interface ServedPrior {
  prior: PopulationPrior;
  /** The registry version it is, or undefined when it was learned at serving. */
  version: number | undefined;
}

/**
 * The promoted prior from the registry (what `notify` training stores), so
 * serving does not read and sum a sample of activity itself; when none is
 * promoted (or it cannot be read), the prior is learned here as before.
 */
export async function loadServedPrior(sql: Sql): Promise<ServedPrior> {
  const entry = await new ModelRegistry(sql).serving(MODELS.notify);
  const prior = entry && priorFromArtefact(entry.metadata, entry.artefact);
  if (entry && prior) return { prior, version: entry.version };
  if (entry) log.warn("the promoted notify version holds no prior this server reads: learning it here", { version: entry.version });
  return { prior: await learnPrior(sql), version: undefined };
}
