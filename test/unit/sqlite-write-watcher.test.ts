/** The SQLite write watcher wakes readers on a WAL write, and again after it. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFileSync, type FSWatcher, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LATE_MS, watchWrites } from "../../src/adapters/sqlite/write-watcher.ts";
import { eventually } from "../../src/testing/harness.ts";

let folder: string;
let watcher: FSWatcher | null = null;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-watch-"));
});
afterEach(() => {
  watcher?.close();
  rmSync(folder, { recursive: true, force: true });
});

test("a WAL write wakes at once and again once the writer has surely published its commit", async () => {
  const path = join(folder, "stem.db");
  const wakes: number[] = [];
  watcher = watchWrites({ kind: "file", path }, () => wakes.push(performance.now()));
  expect(watcher).not.toBeNull();
  const start = performance.now();
  appendFileSync(`${path}-wal`, "frame");
  // At once, and again LATE_MS later: a reader that looked before the commit was visible
  // (its writer descheduled in between) looks again then, not at its next safety-net poll.
  await eventually(() => wakes.length > 0, 2000, "the first wake");
  expect(wakes[0]! - start).toBeLessThan(LATE_MS);
  await eventually(() => wakes.some((at) => at - start >= LATE_MS - 5), 1000, "the late wake");
});
