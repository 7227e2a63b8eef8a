import { intSetting, NUMERIC_SETTINGS } from "../runtime/config.js";
import type { Sql } from "../runtime/storage/database.js";

export interface ModelVersion {
  model: string;
  version: number;
  artefact: Uint8Array;
  metadata: Record<string, unknown>;
  metrics: Record<string, unknown>;
  dataSummary: Record<string, unknown>;
  createdAt: Date;
  promotedAt: Date | null;
  rolledBackAt: Date | null;
}

/**
 * The model registry: versions of each model with artefact, metrics and data
 * summary. The serving version of a model is the most recently promoted one.
 */
export class ModelRegistry {
  constructor(
    private readonly sql: Sql,
    /** Versions kept per model; older ones are pruned unless they serve (MLMESH_MODEL_KEEP_VERSIONS, checked at start). */
    private readonly keepVersions = intSetting(NUMERIC_SETTINGS.modelKeepVersions),
  ) {}

  async save(entry: {
    model: string;
    artefact: Uint8Array;
    metadata: Record<string, unknown>;
    metrics: Record<string, unknown>;
    dataSummary: Record<string, unknown>;
  }): Promise<number> {
    const rows = await this.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${`model_versions:${entry.model}`}))`;
      return tx<{ version: number }[]>`
        insert into model_versions (model, version, artefact, metadata, metrics, data_summary)
        select ${entry.model}, coalesce(max(version), 0) + 1, ${Buffer.from(entry.artefact)},
               ${tx.json(entry.metadata as never)}, ${tx.json(entry.metrics as never)}, ${tx.json(entry.dataSummary as never)}
        from model_versions where model = ${entry.model}
        returning version`;
    });
    await this.prune(entry.model);
    return rows[0].version;
  }

  /** Drops all but the newest N versions, never the serving one nor one a rollback would return to. */
  private async prune(model: string): Promise<void> {
    await this.sql`
      delete from model_versions
      where model = ${model}
        and version not in (select version from model_versions where model = ${model} order by version desc limit ${this.keepVersions})
        and version not in (select version from model_versions where model = ${model} and promoted_at is not null
                            order by promoted_at desc limit 2)`;
  }

  async get(model: string, version: number): Promise<ModelVersion | undefined> {
    const rows = await this.sql<Row[]>`select * from model_versions where model = ${model} and version = ${version}`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Every kept version, newest first, without artefacts. */
  async versions(model: string): Promise<Omit<ModelVersion, "artefact">[]> {
    const rows = await this.sql<Row[]>`
      select model, version, ''::bytea as artefact, metadata, metrics, data_summary, created_at, promoted_at, rolled_back_at
      from model_versions where model = ${model} order by version desc`;
    return rows.map(fromRow);
  }

  /**
   * Withdraws the serving version: the version promoted before it serves
   * again. Answers the version now serving, or undefined if none is left
   * (servers then fall back to their baseline).
   */
  async rollback(model: string): Promise<{ from: number; to: number | undefined }> {
    return this.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${`model_versions:${model}`}))`;
      const [current] = await tx<{ version: number }[]>`
        select version from model_versions where model = ${model} and promoted_at is not null
        order by promoted_at desc limit 1`;
      if (!current) throw new Error(`model ${model} has no serving version to roll back`);
      await tx`update model_versions set promoted_at = null, rolled_back_at = clock_timestamp() where model = ${model} and version = ${current.version}`;
      const [next] = await tx<{ version: number }[]>`
        select version from model_versions where model = ${model} and promoted_at is not null
        order by promoted_at desc limit 1`;
      return { from: current.version, to: next?.version };
    });
  }

  /** Makes a version the serving one, whatever serves now (under the model's lock, as every change of the serving version). */
  async promote(model: string, version: number): Promise<void> {
    await this.promoteIfBetter(model, version, { force: true, score: () => 0 });
  }

  /**
   * Promotes `version` if its score beats the serving version's (higher is
   * better; a serving version without a score is beaten by any), or whatever
   * serves when `force` is set. One transaction under the model's lock, the
   * comparison made inside it: two trainings finishing at once cannot both
   * read the same serving version and leave the worse one promoted.
   */
  async promoteIfBetter(
    model: string,
    version: number,
    options: {
      score: (metrics: Record<string, unknown>) => number | undefined;
      force?: boolean;
      /** How much the score must beat the serving version's by (default 0: any gain). */
      minGain?: number;
    },
  ): Promise<PromotionOutcome> {
    return this.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${`model_versions:${model}`}))`;
      const [candidate] = await tx<{ metrics: Record<string, unknown> }[]>`
        select metrics from model_versions where model = ${model} and version = ${version}`;
      if (!candidate) throw new Error(`no version ${version} of model ${model}`);
      const [current] = await tx<{ version: number; metrics: Record<string, unknown> }[]>`
        select version, metrics from model_versions where model = ${model} and promoted_at is not null
        order by promoted_at desc limit 1`;
      const score = options.score(candidate.metrics) ?? Number.NaN;
      const serving = current && { version: current.version, score: options.score(current.metrics) ?? Number.NEGATIVE_INFINITY };
      if (current?.version === version) return { promoted: false, serving };
      if (!options.force && serving && !(score > serving.score + (options.minGain ?? 0))) return { promoted: false, serving };
      await tx`update model_versions set promoted_at = clock_timestamp(), rolled_back_at = null where model = ${model} and version = ${version}`;
      return { promoted: true, serving };
    });
  }

  async serving(model: string): Promise<ModelVersion | undefined> {
    const rows = await this.sql<Row[]>`
      select * from model_versions where model = ${model} and promoted_at is not null
      order by promoted_at desc limit 1`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}

/** What promoteIfBetter did, and what served when it decided (undefined: nothing did). */
export interface PromotionOutcome {
  promoted: boolean;
  serving: { version: number; score: number } | undefined;
}

interface Row {
  model: string;
  version: number;
  artefact: Buffer;
  metadata: Record<string, unknown>;
  metrics: Record<string, unknown>;
  data_summary: Record<string, unknown>;
  created_at: Date;
  promoted_at: Date | null;
  rolled_back_at: Date | null;
}

function fromRow(r: Row): ModelVersion {
  return {
    model: r.model,
    version: r.version,
    artefact: new Uint8Array(r.artefact),
    metadata: r.metadata,
    metrics: r.metrics,
    dataSummary: r.data_summary,
    createdAt: r.created_at,
    promotedAt: r.promoted_at,
    rolledBackAt: r.rolled_back_at,
  };
}
