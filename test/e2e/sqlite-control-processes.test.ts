/**
 * A control message published by one process reaches a subscriber in another process on
 * the same SQLite file at once: the subscriber is woken by the file watcher, not by its
 * safety-net poll (every WATCHED_POLL_MS).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { WATCHED_POLL_MS } from "../../src/adapters/sqlite/write-watcher.ts";
import { lines } from "./fixtures/stdout-lines.ts";

const FIXTURE = join(import.meta.dir, "fixtures/sqlite-control-listener.ts");

let folder: string;
let child: Subprocess<"ignore", "pipe", "pipe"> | undefined;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-control-"));
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(folder, { recursive: true, force: true });
});

test("a control message from another process arrives within a fraction of the safety-net poll", async () => {
  const url = `sqlite://${join(folder, "stem.db")}`;
  const publisher = await openSqlite(url);
  child = Bun.spawn([process.execPath, FIXTURE, url, "workers"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = lines(child.stdout);
  const nextLine = () =>
    output.next().catch(async (error) => {
      throw new Error(
        `listener exited (${error.message}): ${await new Response(child!.stderr).text()}`,
      );
    });
  expect(await nextLine()).toBe("ready");
  try {
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      await publisher.controlBus().publish("workers", { command: "ping", n: i });
      expect(JSON.parse(await nextLine())).toEqual({ command: "ping", n: i });
      expect(Date.now() - started).toBeLessThan(WATCHED_POLL_MS / 5);
    }
  } finally {
    await publisher.close();
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  }
}, 20_000);
