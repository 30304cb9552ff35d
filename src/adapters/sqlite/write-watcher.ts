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

/** Delay of the second wake after a WAL write (see below). */
const FOLLOW_UP_MS = 1;

export function watchWrites(
  target: DatabaseTarget,
  onWrite: () => void,
  onStop?: () => void,
): FSWatcher | null {
  if (target.kind !== "file") return null;
  const wal = `${basename(target.path)}-wal`;
  // The WAL append is seen before the commit becomes visible to readers (the index in
  // <file>-shm is updated through shared memory, which raises no file event), so a second
  // wake follows shortly after for a reader that looked too early.
  let followUp: ReturnType<typeof setTimeout> | undefined;
  const wake = () => {
    onWrite();
    followUp ??= setTimeout(() => {
      followUp = undefined;
      onWrite();
    }, FOLLOW_UP_MS);
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
