/**
 * Chords finished by worker processes: two worker processes share a store (a SQLite file,
 * Redis, Postgres) and race through a 200-member chord; the callback runs exactly once, on
 * whichever process records the last member. A producer process that starts a chord and
 * exits at once leaves nothing undone: the workers finish the chord without it. A worker
 * SIGKILLed mid-chord loses nothing: its tasks come back after their lease, and the
 * callback still runs exactly once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { StemClient, task } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { postgresStore, redisStore, sqliteStore } from "./fixtures/canvas-stores.ts";
import { canvasTasks } from "./fixtures/canvas-tasks.ts";

const WORKER = join(import.meta.dir, "fixtures/canvas-worker.ts");
const PRODUCER = join(import.meta.dir, "fixtures/canvas-producer.ts");
const MEMBERS = 200;
const TIMEOUT = 90_000;

const folder = mkdtempSync(join(tmpdir(), "stem-canvas-procs-"));
const spawned: Subprocess[] = [];
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(folder, { recursive: true, force: true });
});

/** Starts a worker process and resolves once it is consuming. */
async function startWorker(
  url: string,
  lease = "30s",
): Promise<Subprocess<"ignore", "ignore", "pipe">> {
  const child = Bun.spawn([process.execPath, WORKER, url, "8", lease], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STEM_LOG_LEVEL: "warn" },
  });
  spawned.push(child);
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + 20_000;
  while (!seen.includes("canvas-worker-ready")) {
    if (Date.now() > deadline) throw new Error(`worker process did not start; stderr: ${seen}`);
    const { value, done } = await reader.read();
    if (done)
      throw new Error(
        `worker process exited (code ${child.exitCode}) before it was ready; stderr: ${seen}`,
      );
    seen += decoder.decode(value, { stream: true });
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
    }
  })();
  return child;
}

async function stopWorkers(workers: Subprocess[]): Promise<void> {
  for (const w of workers) w.kill("SIGTERM");
  const codes = await Promise.all(workers.map((w) => w.exited));
  expect(codes).toEqual(workers.map(() => 0));
}

/**
 * Waits until nothing is left to run: no task pending, delayed or leased in the default
 * queue. After that no duplicate callback can appear (it would have to be published by a
 * member's run, and every member has been acked).
 */
async function drained(client: StemClient): Promise<void> {
  await eventually(
    async () => {
      const [stats] = await client.broker.stats(["default"]);
      return stats.pending + stats.delayed + stats.inflight === 0;
    },
    60_000,
    "the queue to drain",
  );
}

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

function chordAcrossProcesses(
  name: string,
  open: () => Promise<{ url: string; cleanup(): Promise<void> }>,
) {
  describe(`chord across worker processes on ${name}`, () => {
    test(
      `a ${MEMBERS}-member chord raced by two worker processes runs its callback exactly once; a producer that exits at once still gets its chord finished`,
      async () => {
        const store = await open();
        const client = await StemClient.fromUrl(store.url, { tasks: canvasTasks });
        try {
          const workers = [await startWorker(store.url), await startWorker(store.url)];

          const log = join(folder, `${name}-tally.log`);
          const handle = await client.canvas.chord(
            Array.from({ length: MEMBERS }, (_, i) => task("cv.nap", { ms: i % 3, value: i })),
            task("cv.tally", { log }),
          );
          const expected = (MEMBERS * (MEMBERS - 1)) / 2;
          expect(await handle.get({ timeout: "60s" })).toBe(expected);
          await drained(client);
          const runs = lines(log);
          expect(runs).toHaveLength(1);
          const members = await handle.members();
          const byWorker = new Set(members.map((m) => m.status?.workerId).filter(Boolean));
          // Both processes took part (the callback's worker counts too).
          expect(byWorker.size).toBe(2);
          expect(members.filter((m) => m.state === "succeeded")).toHaveLength(MEMBERS + 1);

          // A producer process starts a chord and exits before any member has run.
          const producerLog = join(folder, `${name}-producer.log`);
          const producer = Bun.spawn([process.execPath, PRODUCER, store.url, "20", producerLog], {
            stdout: "pipe",
            stderr: "pipe",
            env: { ...process.env, STEM_LOG_LEVEL: "warn" },
          });
          spawned.push(producer);
          const [code, out, err] = await Promise.all([
            producer.exited,
            new Response(producer.stdout).text(),
            new Response(producer.stderr).text(),
          ]);
          expect({ code, err }).toEqual({ code: 0, err: "" });
          const chordId = out.trim();
          expect(await client.canvas.handle(chordId).get({ timeout: "30s" })).toBe(190);
          expect(lines(producerLog)).toHaveLength(1);

          await stopWorkers(workers);
        } finally {
          await client.close();
          await store.cleanup();
        }
      },
      TIMEOUT,
    );

    test(
      `a ${MEMBERS}-member chord runs its callback exactly once while one of two worker processes is SIGKILLed mid-chord`,
      async () => {
        const store = await open();
        const client = await StemClient.fromUrl(store.url, { tasks: canvasTasks });
        try {
          // A short lease: the killed worker's tasks come back soon.
          const [victim, survivor] = [
            await startWorker(store.url, "2s"),
            await startWorker(store.url, "2s"),
          ];
          const log = join(folder, `${name}-kill-tally.log`);
          const handle = await client.canvas.chord(
            Array.from({ length: MEMBERS }, (_, i) => task("cv.nap", { ms: 20, value: i })),
            task("cv.tally", { log }),
          );
          const settledAtKill = await eventually(
            async () => {
              const { completed } = await handle.status();
              return completed >= 20 ? completed : undefined;
            },
            30_000,
            "members to settle before the kill",
          );
          victim.kill("SIGKILL");
          await victim.exited;
          expect(settledAtKill).toBeLessThan(MEMBERS);
          expect(await handle.get({ timeout: "60s" })).toBe((MEMBERS * (MEMBERS - 1)) / 2);
          await drained(client);
          expect(lines(log)).toHaveLength(1);
          const members = await handle.members();
          expect(members.filter((m) => m.state === "succeeded")).toHaveLength(MEMBERS + 1);
          await stopWorkers([survivor]);
        } finally {
          await client.close();
          await store.cleanup();
        }
      },
      TIMEOUT,
    );
  });
}

chordAcrossProcesses("SQLite", sqliteStore);

chordAcrossProcesses("Redis", redisStore);
chordAcrossProcesses("Postgres", postgresStore);
