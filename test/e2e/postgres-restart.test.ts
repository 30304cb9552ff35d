/**
 * A Postgres server restart while a worker process drains 5,000 tasks: every task
 * completes, none runs twice, and the worker never exits. The server is a private cluster
 * of this test's own, so restarting it disturbs no other test running at the same time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./fixtures/private-postgres.ts";
import { executions } from "./worker-processes.ts";

const FIXTURE = join(import.meta.dir, "fixtures/postgres-restart-worker.ts");
const TASKS = 5000;

let server: PrivatePostgres;

/** Waits until a fresh connection can run `SELECT 1`. */
async function waitForServer(timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const sql = postgres(server.url, { max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        await sql`SELECT 1`;
        return true;
      } catch {
        return false;
      } finally {
        await sql.end({ timeout: 1 }).catch(() => {});
      }
    },
    timeoutMs,
    "the Postgres server to accept connections again",
  );
}

function startWorker(url: string, log: string) {
  const proc = Bun.spawn([process.execPath, FIXTURE, url, log, "4"], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STEM_LOG_LEVEL: "warn" },
  });
  let output = "";
  const ready = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      output += decoder.decode(chunk);
      if (output.includes("worker-ready")) break;
    }
    if (!output.includes("worker-ready"))
      throw new Error(`worker exited before it was ready: ${output}`);
    // Keep reading so the worker never blocks on a full stderr pipe.
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>)
        output += decoder.decode(chunk);
    })();
  })();
  return { proc, ready, output: () => output };
}

beforeAll(async () => {
  server = await startPrivatePostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe("Postgres server restart", () => {
  test(`a worker draining ${TASKS} tasks across a restart runs every task exactly once and keeps running`, async () => {
    const url = server.url;
    const dir = mkdtempSync(join(tmpdir(), "stem-pg-restart-"));
    const log = join(dir, "runs.log");
    let worker: ReturnType<typeof startWorker> | undefined;
    try {
      const producer = await StemClient.fromUrl(url);
      const ids: string[] = [];
      try {
        for (let i = 0; i < TASKS; i += 500) {
          ids.push(
            ...(await producer.stem.enqueueMany(
              Array.from({ length: Math.min(500, TASKS - i) }, () => ({
                name: "e2e.step",
                args: { ms: 3 },
                options: {},
              })),
            )),
          );
        }
      } finally {
        await producer.close();
      }

      worker = startWorker(url, log);
      await worker.ready;
      await eventually(
        () => executions(log).size >= 1000,
        30_000,
        "1,000 tasks run before the restart",
      );
      const beforeRestart = executions(log).size;
      await server.restart();
      await waitForServer(30_000);
      // The restart must land mid-drain, or it proves nothing.
      expect(beforeRestart).toBeLessThan(TASKS);

      const client = await StemClient.fromUrl(url);
      try {
        await eventually(
          async () => {
            const statuses = await client.backend.getMany(ids);
            return statuses.every((s) => s?.state === "succeeded");
          },
          60_000,
          `all ${TASKS} tasks succeeded`,
        );
        const [stats] = await client.broker.stats(["default"]);
        expect(stats.pending + stats.inflight + stats.delayed).toBe(0);
      } finally {
        await client.close();
      }
      const counts = executions(log);
      expect(counts.size).toBe(TASKS);
      const twice = [...counts].filter(([, n]) => n > 1);
      expect(twice).toEqual([]);
      // The worker rode out the restart: still running, and it stops cleanly when asked.
      expect(worker.proc.exitCode).toBeNull();
      worker.proc.kill("SIGTERM");
      expect(await worker.proc.exited).toBe(0);
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\nworker output:\n${worker?.output() ?? "(not started)"}`,
        {
          cause: error,
        },
      );
    } finally {
      worker?.proc.kill("SIGKILL");
      await worker?.proc.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
