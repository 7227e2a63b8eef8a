import { readFileSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { log } from "../log.js";
import { keyDigest, parseKeyFile, type ApiKeyEntry } from "./key-file.js";
import { ALL_SCOPES } from "./scopes.js";

/** How often the key file is stat'ed besides fs.watch (a Secret mount swaps a symlink, which some watchers miss). */
export const KEY_FILE_POLL_MS = 5000;
// fs.watch reports a write as several events; one reload after they settle.
const DEBOUNCE_MS = 100;

/** Legacy MLMESH_API_KEYS keys: every scope, named by position (a form the key file's names cannot take). */
export function legacyKeys(keys: readonly string[]): ApiKeyEntry[] {
  return keys.map((key, i) => ({ name: `MLMESH_API_KEYS[${i}]`, digest: keyDigest(key), scopes: ALL_SCOPES }));
}

/** Reads and parses the key file; throws an Error naming the file and the problem. */
export function readKeyFile(path: string): { entries: ApiKeyEntry[]; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return { entries: parseKeyFile(text), text };
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/**
 * The keys a server accepts: the legacy ones from the environment and those
 * of MLMESH_API_KEYS_FILE, re-read when the file changes (fs.watch on its
 * directory, a periodic stat, or `reload()` on SIGHUP) without a restart. A
 * file that cannot be read or parsed on reload keeps the keys loaded before
 * and logs why; it never stops the server.
 */
export class ApiKeyStore {
  private current: readonly ApiKeyEntry[];
  // The text the keys were last taken from; unknown at first (the configuration read the file), so the first change always applies.
  private fileText: string | undefined;
  private signature: string | undefined;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly legacy: readonly ApiKeyEntry[],
    private readonly path: string | undefined,
    fileEntries: readonly ApiKeyEntry[] = [],
  ) {
    this.current = [...legacy, ...fileEntries];
    if (path) this.signature = this.statSignature();
  }

  /** The keys accepted now; replaced as a whole on reload, so a call sees one consistent set. */
  get entries(): readonly ApiKeyEntry[] {
    return this.current;
  }

  /** The names of the keys accepted now (for logs; never the keys). */
  get names(): string[] {
    return this.current.map((e) => e.name);
  }

  /**
   * Re-reads the key file; true when it was read (changed or not), false when
   * it was bad and the old keys stay. `requested` (SIGHUP) logs the outcome
   * even when nothing changed, so an operator sees the signal was taken.
   */
  reload(reason: string, requested = false): boolean {
    if (!this.path) return true;
    this.signature = this.statSignature();
    let read: { entries: ApiKeyEntry[]; text: string };
    try {
      read = readKeyFile(this.path);
    } catch (err) {
      log.error("API key file not reloaded: keeping the keys loaded before", { reason, problem: (err as Error).message, keys: this.names });
      return false;
    }
    if (read.text === this.fileText) {
      if (requested) log.info("API key file re-read: unchanged", { reason, keys: this.names });
      return true;
    }
    this.fileText = read.text;
    this.current = [...this.legacy, ...read.entries];
    log.info("API keys reloaded", { reason, file: this.path, keys: this.names });
    return true;
  }

  /** Starts watching the key file (no-op without one). */
  watch(pollMs = KEY_FILE_POLL_MS): void {
    const path = this.path;
    if (!path || this.poll) return;
    try {
      // The directory, not the file: a Secret update replaces the file (a symlink swap), and a watch on the old one goes quiet.
      this.watcher = watch(dirname(path), (_event, name) => {
        if (name === null || name === basename(path) || name.startsWith("..")) this.soon("file changed");
      });
      this.watcher.on("error", (err) => log.warn("API key file watch failed; the periodic check remains", { error: String(err) }));
      this.watcher.unref();
    } catch (err) {
      log.warn("API key file cannot be watched; checking it periodically", { error: String(err) });
    }
    this.poll = setInterval(() => {
      if (this.statSignature() !== this.signature) this.soon("file changed (periodic check)");
    }, pollMs);
    this.poll.unref();
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    this.poll = undefined;
  }

  private soon(reason: string): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(reason), DEBOUNCE_MS);
    this.debounce.unref();
  }

  private statSignature(): string {
    try {
      const s = statSync(this.path!);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return "missing";
    }
  }
}
