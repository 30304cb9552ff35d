import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { logger } from "../../core/logger.ts";
import type { DatabaseTarget } from "./database.ts";

/**
 * Calls `onWrite` when any process writes to the database file: in WAL mode every commit
 * appends to `<file>-wal`, so watching it lets a waiting fetch wake at once for work
 * published by another process instead of at its next poll. The poll stays as the
 * fallback; a platform without file watching simply keeps polling (`onStop` tells the
 * caller when watching stops working). The folder is watched
 * (not the WAL file itself), so a checkpoint that recreates the file is still seen.
 */
/**
 * How often a reader that the watcher wakes polls anyway, as a safety net: rare, so an
 * idle worker costs next to no CPU (without a working watcher readers poll often instead).
 */
export const WATCHED_POLL_MS = 5_000;

/** Delays of the extra wakes after a WAL write (see below). */
const SOON_MS = 1;
/** The last extra wake: a writer descheduled before publishing its commit is still seen. */
export const LATE_MS = 40;

export function watchWrites(
  target: DatabaseTarget,
  onWrite: () => void,
  onStop?: () => void,
): FSWatcher | null {
  if (target.kind !== "file") return null;
  const wal = `${basename(target.path)}-wal`;
  // The WAL append is seen before the commit becomes visible to readers (the index in
  // <file>-shm is updated through shared memory, which raises no file event), so wakes
  // follow, soon and again a little later, for a reader that looked too early (a writer
  // can be descheduled in between); each write moves the later one back.
  let soon: ReturnType<typeof setTimeout> | undefined;
  let late: ReturnType<typeof setTimeout> | undefined;
  const wake = () => {
    onWrite();
    soon ??= setTimeout(() => {
      soon = undefined;
      onWrite();
    }, SOON_MS);
    clearTimeout(late);
    late = setTimeout(onWrite, LATE_MS);
  };
  try {
    const watcher = watch(dirname(target.path), { persistent: false }, (_event, file) => {
      if (file === wal) wake();
    });
    watcher.on("error", (error) => {
      logger.debug(
        `sqlite: stopped watching ${target.path} for writes (${error.message}); polling only`,
      );
      watcher.close();
      onStop?.();
    });
    return watcher;
  } catch (error) {
    logger.debug(
      `sqlite: cannot watch ${target.path} for writes (${(error as Error).message}); polling only`,
    );
    return null;
  }
}
