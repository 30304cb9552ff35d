/**
 * Real worker processes against SQLite, Redis and Postgres (memory cannot outlive a
 * process, so it has no part here):
 * - a task that calls process.exit, in a worker restarted by a supervisor loop, ends in
 *   the dead letters (`crashed`) at its delivery limit, while 50 ordinary tasks around
 *   it succeed;
 * - three workers drain 3,000 tasks while one of them is SIGKILLed and replaced every
 *   1.5 s: every task ends succeeded, none is lost, and tasks completed more than once
 *   (at-least-once delivery) are counted and printed.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient } from "../../src/index.ts";
import { deadLetterOf, eventually } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";
import { enqueueChaos, executions, startWorker } from "./worker-processes.ts";

type WorkerProcess = ReturnType<typeof startWorker>;

/** Keeps one worker process running: restarts it whenever it exits, until stopped. */
function supervise(url: string, log: string, concurrency: number) {
  let current: WorkerProcess = startWorker(url, log, concurrency);
  let stopped = false;
  let restarts = 0;
  const loop = (async () => {
    for (;;) {
      await current.proc.exited;
      if (stopped) return;
      restarts++;
      current = startWorker(url, log, concurrency);
    }
  })();
  return {
    get restarts() {
      return restarts;
    },
    ready: () => current.ready,
    async stop() {
      stopped = true;
      current.proc.kill("SIGKILL");
      await current.proc.exited;
      await loop;
    },
  };
}

async function drained(client: StemClient): Promise<boolean> {
  const [stats] = await client.broker.stats(["default"]);
  return stats.pending === 0 && stats.inflight === 0 && stats.delayed === 0;
}

for (const kind of ["sqlite", "redis", "postgres"] as StoreKind[]) {
  describe(`worker processes on ${kind}: poison and chaos`, () => {
    test("a task that exits its worker process is dead-lettered at its delivery limit; 50 tasks around it succeed", async () => {
      const store = await openTestStore(kind, "px");
      const dir = mkdtempSync(join(tmpdir(), "stem-poison-"));
      const log = join(dir, "runs.log");
      // One task at a time, so the poison task is alone in the process it kills.
      const worker = supervise(store.url, log, 1);
      // A producer that does not register the tasks, as `stem enqueue` would.
      const client = await StemClient.fromUrl(store.url);
      try {
        await worker.ready();
        const call = (name: string) => ({ name, args: {}, options: {} });
        const before = await client.stem.enqueueMany(
          Array.from({ length: 25 }, () => call("e2e.noop")),
        );
        const poison = await client.enqueue("e2e.exit");
        const after = await client.stem.enqueueMany(
          Array.from({ length: 25 }, () => call("e2e.noop")),
        );
        const dead = await deadLetterOf(client.broker, poison, 25_000);
        expect(dead.reason).toBe("crashed");
        expect(dead.meta.deliveries).toBe(4);
        expect(executions(log).get(poison)).toBe(3);
        expect(worker.restarts).toBeGreaterThanOrEqual(3);
        const result = await client.waitForTask(poison, { timeout: 5000 });
        expect(result.state).toBe("failed");
        expect(result.error?.type).toBe("crashed");
        const ordinary = [...before, ...after];
        await eventually(() => drained(client), 20_000, "queue drained");
        const statuses = await client.backend.getMany(ordinary);
        expect(statuses.map((s) => s?.state)).toEqual(ordinary.map(() => "succeeded"));
      } finally {
        await worker.stop();
        await client.close();
        rmSync(dir, { recursive: true, force: true });
        await store.cleanup();
      }
    }, 45_000);

    test("three workers drain 3,000 tasks while one is SIGKILLed and replaced every 1.5 s", async () => {
      const store = await openTestStore(kind, "cx");
      const dir = mkdtempSync(join(tmpdir(), "stem-chaos-"));
      const log = join(dir, "runs.log");
      const TASKS = 3000;
      const workers: WorkerProcess[] = [0, 1, 2].map(() => startWorker(store.url, log, 10));
      const client = await StemClient.fromUrl(store.url);
      let kills = 0;
      let chaos: ReturnType<typeof setInterval> | undefined;
      try {
        await Promise.all(workers.map((w) => w.ready));
        const ids = await enqueueChaos(client, TASKS, 60);
        // Twelve kills (18 s of chaos), then the survivors finish: a worker started under a
        // loaded CI machine can take longer than 1.5 s to come up, and endless kills would
        // then leave the drain to two workers for as long as it lasts.
        chaos = setInterval(() => {
          if (kills >= 12) return clearInterval(chaos);
          const victim = kills % workers.length;
          workers[victim].proc.kill("SIGKILL");
          workers[victim] = startWorker(store.url, log, 10);
          workers[victim].ready.catch(() => {});
          kills++;
        }, 1500);
        await eventually(
          async () => (await drained(client)) && executions(log).size === TASKS,
          75_000,
          "all tasks completed",
        );
        clearInterval(chaos);
        const statuses = await client.backend.getMany(ids);
        const succeeded = statuses.filter((s) => s?.state === "succeeded").length;
        const counts = executions(log);
        const repeated = [...counts.values()].filter((n) => n > 1);
        const extra = repeated.reduce((sum, n) => sum + n - 1, 0);
        console.log(
          `chaos on ${kind}: ${TASKS} tasks, ${kills} workers SIGKILLed, ${succeeded} succeeded, ` +
            `${repeated.length} completed more than once (${extra} repeated completions)`,
        );
        expect(kills).toBeGreaterThanOrEqual(1);
        expect(succeeded).toBe(TASKS);
        expect(counts.size).toBe(TASKS);
        expect(ids.every((id) => counts.has(id))).toBe(true);
        const [stats] = await client.broker.stats(["default"]);
        expect(stats.dead).toBe(0);
      } finally {
        clearInterval(chaos);
        for (const w of workers) w.proc.kill("SIGKILL");
        await Promise.all(workers.map((w) => w.proc.exited));
        await client.close();
        rmSync(dir, { recursive: true, force: true });
        await store.cleanup();
      }
    }, 90_000);
  });
}
