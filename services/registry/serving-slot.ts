import { log } from "../runtime/log.js";
import type { Subscription } from "../runtime/storage/subscriber.js";
import type { ModelName } from "./models.js";
import { onPromotion } from "./promotions.js";

// Requests still running on a swapped-out version finish well within this; then it is freed.
const RELEASE_AFTER_MS = 10_000;

/** A model as a slot holds it: the version it answers as, and what to free once nothing runs on it. */
export interface ServedModel {
  readonly version: string;
  release?(): Promise<void>;
}

export interface ServingSlotOptions<M extends ServedModel> {
  /** The registry's name for the model. */
  model: ModelName;
  /** How the log names it ("match", "recommendation"). */
  title: string;
  /** Loads the version to serve now; undefined when there is none (the slot keeps what it holds). */
  load: () => Promise<M | undefined>;
  redisUrl: string;
  /** MLMESH_REDIS_PREFIX: the channel promotions are announced on. */
  redisPrefix: string;
}

/**
 * The version of a model a server answers with. It holds the promoted version
 * from the start, and loads it again whenever a promotion or rollback of the
 * model is announced; the new version goes in with one assignment, so
 * requests in flight finish on the one they started with, which is released
 * ten seconds later. When the Redis subscription comes back after an outage
 * it loads the serving version again, since a promotion made meanwhile was
 * announced to no one.
 */
export class ServingSlot<M extends ServedModel> {
  private model: M | undefined;
  private readonly promotions: Subscription;
  /** Loads started; a load finishing after a later one started is dropped, so an older version never replaces a newer. */
  private loads = 0;

  private constructor(
    private readonly options: ServingSlotOptions<M>,
    first: M | undefined,
  ) {
    this.model = first;
    this.promotions = onPromotion(
      {
        redisUrl: options.redisUrl,
        redisPrefix: options.redisPrefix,
        model: options.model,
        missed: `${options.title} model promotions will not arrive until it returns`,
      },
      () => this.reload(),
    );
  }

  /** Loads the serving version (the slot may start empty) and starts listening for promotions. */
  static async open<M extends ServedModel>(options: ServingSlotOptions<M>): Promise<ServingSlot<M>> {
    return new ServingSlot(options, await options.load());
  }

  /** The version to answer with now; undefined while there is none. */
  get current(): M | undefined {
    return this.model;
  }

  /** Serves a model obtained another way (one fitted at start) unless a promoted one arrived first. */
  fill(model: M): void {
    this.model ??= model;
  }

  /** Stops listening and releases the version it holds. */
  async close(): Promise<void> {
    this.promotions.close();
    await this.model?.release?.();
  }

  private reload(): void {
    const { title } = this.options;
    const load = ++this.loads;
    void this.options.load().then(
      (next) => {
        if (!next) return;
        if (load !== this.loads) {
          // A later announcement's load is under way and answers with what serves now.
          if (next !== this.model) void next.release?.();
          return;
        }
        if (next === this.model) return;
        if (next.version === this.model?.version) {
          // Nothing changed (a re-read after Redis came back, say): keep the warmed copy.
          void next.release?.();
          return;
        }
        const previous = this.model;
        this.model = next; // one assignment: later requests use the new version, running ones keep theirs
        log.info(`${title} model swapped`, { from: previous?.version, to: next.version });
        if (previous?.release) setTimeout(() => void previous.release!(), RELEASE_AFTER_MS).unref();
      },
      (err) => log.error(`could not load the promoted ${title} model`, { error: String(err) }),
    );
  }
}
