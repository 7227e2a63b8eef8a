import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import { ProfileColumns } from "./store/profile-columns.js";
import { loadTravellers, tableSize, toProfile, travellersOnPages } from "./store/profiles.js";

/** Rows read per query while filling: a few milliseconds of decoding, so calls in between wait little. */
const FILL_ROWS = 500;
const RELOAD_BATCH = 500;
const RELOAD_DELAY_MS = 20;
const RETRY_MS = 5_000;
/** Changed travellers waiting to be read again, at most; past it they are read on their next call (see learn). */
const MAX_PENDING = 100_000;

/** What the store reports of itself (gauges, the bench). */
export interface ProfileStoreStatus {
  travellers: number;
  bytes: number;
  filled: boolean;
  fillMs: number | undefined;
}

/**
 * The online feature store: every traveller's scoring features in process,
 * in typed arrays (store/profile-columns.ts; about 700 bytes a traveller, 200 of them the text parts), so
 * scoring candidates drawn from a million travellers reads no cache and no
 * database. Filled from the travellers table after the server reports ready
 * (start), a few hundred rows at a time; until then, and for any traveller
 * it lacks, callers read as before (the profile cache, Redis, PostgreSQL)
 * and hand what they read back (learn).
 *
 * Changes are heard as the profile cache hears them (PostgreSQL's row-change
 * announcements, whoever made the change): the traveller is dropped at once
 * and read again shortly. A read that began before a change announced while
 * it ran does not keep what it read (it may be the old row); after the
 * announcements' connection was lost, the store is emptied and filled anew.
 */
export class ProfileStore {
  private columns = new ProfileColumns();
  /** getMany's slots. */
  private slots = new Int32Array(0);
  /** Changes heard so far: a read remembers the count it began at. */
  private seq = 0;
  /** Reads that began before this count are from before a reset: nothing they read is kept. */
  private resetAt = 0;
  /** When each traveller last changed, while reads are in flight (cleared when none are). */
  private readonly changed = new Map<string, number>();
  private reads = 0;
  private readonly pending = new Set<string>();
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private fillRun = 0;
  private filling: Promise<void> = Promise.resolve();
  private started = false;
  private closed = false;
  private filled = false;
  private fillMs: number | undefined;

  constructor(private readonly sql: Sql) {}

  /** Starts filling (once the server is ready: the fill never delays readiness). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.refill();
  }

  /** Resolves when the fill under way (if any) has finished or stopped. */
  whenFilled(): Promise<void> {
    return this.filling;
  }

  /** Whether the last fill completed (and nothing since emptied the store). */
  isFilled(): boolean {
    return this.filled;
  }

  status(): ProfileStoreStatus {
    return { travellers: this.columns.size, bytes: this.columns.bytes, filled: this.filled, fillMs: this.fillMs };
  }

  /** The traveller's features, or undefined when the store does not hold them (read them elsewhere, then learn). */
  get(id: string): ProfileFeatures | undefined {
    const slot = this.columns.index.find(id);
    return slot >= 0 && this.columns.isValid(slot) ? this.columns.get(slot, id) : undefined;
  }

  /**
   * The features of many travellers, as get reads each: those it holds are
   * set in `found`, and the ids it lacks returned (undefined when none).
   * Their slots are found, and their rows read into the caches, for all of
   * them together (UuidIndex.findMany, ProfileColumns.warm): over a million
   * travellers, reading one profile after another waited for each one's
   * cache misses in turn.
   */
  getMany(ids: readonly string[], found: Map<string, ProfileFeatures>): string[] | undefined {
    const n = ids.length;
    if (this.slots.length < n) this.slots = new Int32Array(Math.max(n, 2 * this.slots.length));
    const { columns, slots } = this;
    columns.index.findMany(ids, slots);
    columns.warm(slots, n);
    let missing: string[] | undefined;
    for (let i = 0; i < n; i++) {
      const slot = slots[i];
      if (slot >= 0 && columns.isValid(slot)) found.set(ids[i], columns.get(slot, ids[i]));
      else (missing ??= []).push(ids[i]);
    }
    return missing;
  }

  /** Marks the start of a read elsewhere whose result will be handed to learn; pass the mark back, then call done. */
  beginRead(): number {
    this.reads++;
    return this.seq;
  }

  /** Keeps profiles read elsewhere since `mark`, except those changed since. */
  learn(mark: number, profiles: Iterable<ProfileFeatures>): void {
    if (!this.started) return;
    for (const p of profiles) this.keep(p.id, p, mark);
  }

  /** Ends a read begun by beginRead. */
  doneRead(): void {
    if (--this.reads === 0) this.changed.clear();
  }

  /** A traveller changed (or was removed): dropped now, read again shortly. */
  forget(id: string): void {
    this.seq++;
    if (this.reads > 0) this.changed.set(id, this.seq);
    const slot = this.columns.index.find(id);
    if (slot < 0 || !this.started) return;
    this.columns.invalidate(slot);
    if (this.pending.size >= MAX_PENDING) return;
    this.pending.add(id);
    this.reloadTimer ??= setTimeout(() => this.reloadPending(), RELOAD_DELAY_MS);
  }

  /** Changes may have been missed: everything is dropped, and the store filled anew. */
  forgetAll(): void {
    this.resetAt = ++this.seq;
    this.columns = new ProfileColumns();
    this.pending.clear();
    this.filled = false;
    if (this.started) this.refill();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fillRun++;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = undefined;
    await Promise.all([this.filling, this.reloading]);
  }

  private keep(id: string, p: ProfileFeatures, mark: number): void {
    if (mark < this.resetAt || (this.changed.get(id) ?? -1) > mark) return;
    const slot = this.columns.slotFor(id);
    if (slot >= 0) this.columns.put(slot, p);
  }

  private refill(): void {
    const run = ++this.fillRun;
    const previous = this.filling;
    this.filling = previous.then(() => this.fill(run));
  }

  private async fill(run: number): Promise<void> {
    const started = performance.now();
    const current = () => run === this.fillRun && !this.closed;
    let size: { pages: number; rows: number } | undefined;
    let page = 0;
    while (current()) {
      try {
        size ??= await tableSize(this.sql);
        // A table never analysed has no row count: about ten profiles fit a page.
        const rows = size.rows > 0 ? size.rows : size.pages * 10;
        if (page === 0) this.columns.reserve(Math.ceil(rows * 1.05));
        const step = Math.max(1, Math.floor((FILL_ROWS * size.pages) / Math.max(1, rows)));
        // The last query has no end: it takes the pages added since the size was read.
        const last = page + step >= size.pages;
        const mark = this.beginRead();
        try {
          for (const row of await travellersOnPages(this.sql, page, last ? undefined : page + step))
            this.keep(row.id, toProfile(row), mark);
        } finally {
          this.doneRead();
        }
        if (last) break;
        page += step;
        await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        log.warn("profile store: reading travellers failed; trying again", { error: String(err), retryMs: RETRY_MS });
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
    if (!current()) return;
    this.filled = true;
    this.fillMs = performance.now() - started;
    log.info("profile store filled", {
      travellers: this.columns.size,
      mib: Math.round(this.columns.bytes / 2 ** 20),
      ms: Math.round(this.fillMs),
    });
  }

  private reloadPending(): void {
    this.reloadTimer = undefined;
    const ids = [...this.pending].slice(0, RELOAD_BATCH);
    for (const id of ids) this.pending.delete(id);
    this.reloading = this.reloading
      .then(async () => {
        const mark = this.beginRead();
        try {
          for (const row of await loadTravellers(this.sql, ids)) this.keep(row.id, toProfile(row), mark);
        } finally {
          this.doneRead();
        }
      })
      .catch((err: unknown) =>
        log.warn("profile store: changed travellers not read again (they are on their next call)", { error: String(err) }),
      )
      .finally(() => {
        if (this.pending.size && !this.closed) this.reloadTimer ??= setTimeout(() => this.reloadPending(), RELOAD_DELAY_MS);
      });
  }
}
