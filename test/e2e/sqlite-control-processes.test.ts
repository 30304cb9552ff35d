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
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const at = buffer.indexOf("\n");
      if (at !== -1) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`listener exited: ${await new Response(child!.stderr).text()}`);
      buffer += decoder.decode(value, { stream: true });
    }
  };
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
