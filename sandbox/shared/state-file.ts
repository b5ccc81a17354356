import fs from "node:fs";
import path from "node:path";

/**
 * One JSON file holding an emulator's state across restarts of `npm start`. Writes are debounced (a
 * provisioning cycle makes hundreds of changes a second) and atomic: the new content goes to a
 * temporary file that is renamed over the old one, so a crash mid-write leaves the previous state.
 * The file carries a format version; a file this code cannot read is moved aside, never overwritten.
 */
export interface StateFileOptions<T> {
  file: string;
  version: number;
  /** Checks and converts the `state` member of a file of the current version; throws when it is invalid. */
  parse(state: unknown): T;
  debounceMs?: number;
  /** Where problems reading or writing go; the sandbox keeps running on a fresh state. */
  warn?: (message: string) => void;
}

export interface StateFile<T> {
  /** The saved state, or undefined when there is none (or it could not be read: see `warn`). */
  load(): T | undefined;
  /** Saves `snapshot()` after the debounce interval; repeated calls in between write once. */
  schedule(snapshot: () => T): void;
  /** Writes any scheduled save now. */
  flush(): Promise<void>;
}

export function openStateFile<T>(options: StateFileOptions<T>): StateFile<T> {
  const debounceMs = options.debounceMs ?? 250;
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let timer: NodeJS.Timeout | undefined;
  let pending: (() => T) | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = async (snapshot: () => T): Promise<void> => {
    const content = JSON.stringify({
      version: options.version,
      savedAt: new Date().toISOString(),
      state: snapshot(),
    });
    await fs.promises.mkdir(path.dirname(options.file), { recursive: true });
    const temporary = `${options.file}.${process.pid}.tmp`;
    const handle = await fs.promises.open(temporary, "w", 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, options.file);
  };

  const startWrite = (): Promise<void> => {
    const snapshot = pending;
    pending = undefined;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!snapshot) return writing;
    // Writes are chained so an older snapshot never lands after a newer one.
    writing = writing
      .then(() => write(snapshot))
      .catch((error: unknown) =>
        warn(`Could not save ${options.file}: ${error instanceof Error ? error.message : String(error)}`),
      );
    return writing;
  };

  return {
    load() {
      let text: string;
      try {
        text = fs.readFileSync(options.file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        const parsed = JSON.parse(text) as { version?: unknown; state?: unknown };
        if (parsed.version !== options.version) {
          throw new Error(`format version ${String(parsed.version)}, expected ${options.version}`);
        }
        return options.parse(parsed.state);
      } catch (error) {
        const aside = `${options.file}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
        fs.renameSync(options.file, aside);
        warn(
          `Could not read ${options.file} (${error instanceof Error ? error.message : String(error)}); ` +
            `it was moved to ${aside} and the sandbox starts from its seed.`,
        );
        return undefined;
      }
    },
    schedule(snapshot) {
      pending = snapshot;
      timer ??= setTimeout(() => void startWrite(), debounceMs);
      // A pending save must not keep a process alive that is otherwise done; close() flushes it.
      timer.unref();
    },
    flush: () => startWrite(),
  };
}
