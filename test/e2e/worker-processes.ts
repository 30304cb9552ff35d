/**
 * Shared end-to-end scenarios with real worker processes, run against each adapter URL:
 * several workers share a store and every task runs exactly once; a worker killed with
 * SIGKILL mid-task loses nothing.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

const FIXTURE = join(import.meta.dir, "fixtures/worker-process.ts");

export function startWorker(url: string, log: string, concurrency = 10, queues = "default") {
  return startWorkerScript(FIXTURE, [url, log, String(concurrency), queues]);
}

/**
 * Runs a worker fixture script; `ready` resolves once it writes "worker-ready" to stderr.
 * Its stderr is read to the end (a full pipe would stall the worker); `stderr()` returns
 * what it wrote so far, for failure messages.
 */
export function startWorkerScript(script: string, args: string[]) {
  const proc = Bun.spawn([process.execPath, script, ...args], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STEM_LOG_LEVEL: "warn" },
  });
  let output = "";
  const { promise: sawReady, resolve: markReady } = Promise.withResolvers<void>();
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      output += decoder.decode(chunk);
      if (output.includes("worker-ready")) markReady();
    }
  })();
  const ready = Promise.race([
    sawReady,
    drained.then(() => {
      throw new Error(`worker exited before it was ready: ${output}`);
    }),
  ]);
  return { proc, ready, stderr: () => output };
}

/**
 * Enqueues `total` `e2e.chaos` tasks (each sleeping `ms`) in batches of 500, spread
 * round-robin over `queues` (the default queue when none); returns their ids in order.
 */
export async function enqueueChaos(
  client: StemClient,
  total: number,
  ms: number,
  queues: string[] = [],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < total; i += 500) {
    const calls = Array.from({ length: Math.min(500, total - i) }, (_, j) => ({
      name: "e2e.chaos",
      args: { ms },
      options: queues.length > 0 ? { queue: queues[(i + j) % queues.length] } : {},
    }));
    ids.push(...(await client.stem.enqueueMany(calls)));
  }
  return ids;
}

export function executions(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, "utf8").split("\n")) {
    const id = line.split(" ")[0];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Registers the scenarios for one adapter. `makeUrl` returns a fresh isolated URL and its cleanup. */
export function workerProcessScenarios(
  name: string,
  makeUrl: () => Promise<{ url: string; cleanup(): Promise<void> }>,
  taskCount = 5000,
): void {
  describe(`worker processes on ${name}`, () => {
    test(`two worker processes and a producer process run ${taskCount} tasks exactly once`, async () => {
      const { url, cleanup } = await makeUrl();
      const dir = mkdtempSync(join(tmpdir(), "stem-e2e-"));
      const log = join(dir, "runs.log");
      const workers = [startWorker(url, log), startWorker(url, log)];
      try {
        await Promise.all(workers.map((w) => w.ready));
        // The producer is its own process, as in production.
        const producer = Bun.spawn(
          [
            process.execPath,
            "-e",
            `
            import { StemClient } from ${JSON.stringify(join(import.meta.dir, "../../src/index.ts"))};
            const client = await StemClient.fromUrl(${JSON.stringify(url)});
            const ids = [];
            for (let i = 0; i < ${taskCount}; i += 500) {
              ids.push(...await client.stem.enqueueMany(Array.from({ length: Math.min(500, ${taskCount} - i) }, () => ({ name: "e2e.noop", args: {}, options: {} }))));
            }
            await Bun.write(${JSON.stringify(join(dir, "ids.json"))}, JSON.stringify(ids));
            await client.close();
            process.exit(0);
          `,
          ],
          { stdout: "inherit", stderr: "inherit" },
        );
        expect(await producer.exited).toBe(0);
        const ids: string[] = JSON.parse(readFileSync(join(dir, "ids.json"), "utf8"));
        expect(new Set(ids).size).toBe(taskCount);
        const client = await StemClient.fromUrl(url);
        try {
          await eventually(
            async () => {
              const [stats] = await client.broker.stats(["default"]);
              return stats.pending === 0 && stats.inflight === 0 && stats.delayed === 0;
            },
            120_000,
            "queue drained",
          );
          const statuses = await client.backend.getMany(ids);
          expect(statuses.filter((s) => s?.state === "succeeded").length).toBe(taskCount);
        } finally {
          await client.close();
        }
        const counts = executions(log);
        expect(counts.size).toBe(taskCount);
        expect([...counts.values()].every((n) => n === 1)).toBe(true);
      } finally {
        for (const w of workers) w.proc.kill("SIGKILL");
        await Promise.all(workers.map((w) => w.proc.exited));
        rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    }, 180_000);

    test("a worker killed with SIGKILL mid-task loses nothing: another worker runs it after the lease", async () => {
      const { url, cleanup } = await makeUrl();
      const dir = mkdtempSync(join(tmpdir(), "stem-e2e-"));
      const log = join(dir, "runs.log");
      const first = startWorker(url, log, 1);
      let second: ReturnType<typeof startWorker> | undefined;
      const client = await StemClient.fromUrl(url);
      try {
        await first.ready;
        const victim = await client.enqueue("e2e.sleep", { ms: 3000 });
        const others = await client.stem.enqueueMany(
          Array.from({ length: 5 }, () => ({ name: "e2e.sleep", args: { ms: 10 }, options: {} })),
        );
        await eventually(() => executions(log).has(victim), 10_000, "victim started");
        first.proc.kill("SIGKILL");
        await first.proc.exited;
        second = startWorker(url, log, 2);
        await second.ready;
        const result = await client.waitForTask(victim, { timeout: 20_000 });
        expect(result.state).toBe("succeeded");
        // Redelivered after the lease ran out, as its second attempt.
        expect(result.attempt).toBe(2);
        for (const id of others)
          expect((await client.waitForTask(id, { timeout: 20_000 })).state).toBe("succeeded");
        const counts = executions(log);
        expect(counts.get(victim)).toBe(2);
        for (const id of others) expect(counts.get(id)).toBe(1);
      } finally {
        first.proc.kill("SIGKILL");
        second?.proc.kill("SIGKILL");
        await client.close();
        rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    }, 60_000);
  });
}
