/**
 * Two consumer processes fetch and ack from one SQLite file while a third publishes
 * 5,000 envelopes: every id is delivered and acked exactly once, by one of them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { lines } from "./fixtures/stdout-lines.ts";

const FIXTURE = join(import.meta.dir, "fixtures/sqlite-broker-worker.ts");
const COUNT = 5_000;
const QUEUE = "e2e";

let folder: string;
const spawned: Subprocess[] = [];
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-e2e-"));
});
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(folder, { recursive: true, force: true });
});

function spawn(args: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const child = Bun.spawn([process.execPath, FIXTURE, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  spawned.push(child);
  return child;
}

test("two consumer processes and a publisher process on one file: every task acked exactly once", async () => {
  const url = `sqlite://${join(folder, "stem.db")}`;
  // Create the schema first so the test measures delivery, not three first opens.
  await (await openSqlite(url)).close();

  // A few ms of "work" per batch, as real handlers take, so neither consumer can take everything.
  const consumers = [spawn(["consume", url, QUEUE, "5"]), spawn(["consume", url, QUEUE, "5"])];
  const outputs = consumers.map((c) => lines(c.stdout));
  for (const output of outputs) expect(await output.next()).toBe("ready");

  const publisher = spawn(["publish", url, QUEUE, String(COUNT), "100"]);
  const [published, publishErrors, publishExit] = await Promise.all([
    new Response(publisher.stdout).text(),
    new Response(publisher.stderr).text(),
    publisher.exited,
  ]);
  expect(publishErrors).toBe("");
  expect(publishExit).toBe(0);
  expect(JSON.parse(published)).toEqual({ accepted: COUNT, duplicates: 0 });

  // Wait for the consumers to drain the queue, then stop them.
  const observer = await openSqlite(url);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [stats] = await observer.broker().stats([QUEUE]);
    if (stats.pending + stats.inflight + stats.delayed === 0) {
      expect(stats.dead).toBe(0);
      break;
    }
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(stats)}`);
    await Bun.sleep(50);
  }
  await observer.close();
  for (const consumer of consumers) consumer.kill("SIGTERM");

  const acked: string[][] = [];
  for (const [i, consumer] of consumers.entries()) {
    const [rest, errors, exit] = await Promise.all([
      outputs[i].rest(),
      new Response(consumer.stderr).text(),
      consumer.exited,
    ]);
    expect(errors).toBe("");
    expect(exit).toBe(0);
    acked.push((JSON.parse(rest.trim()) as { acked: string[] }).acked);
  }

  const counts = new Map<string, number>();
  for (const id of acked.flat()) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n !== 1);
  expect(twice).toEqual([]);
  expect(counts.size).toBe(COUNT);
  for (let i = 0; i < COUNT; i++) expect(counts.has(`e2e-${i}`)).toBe(true);
  // Both processes took part.
  expect(acked[0].length).toBeGreaterThan(0);
  expect(acked[1].length).toBeGreaterThan(0);
}, 30_000);
