/**
 * A Postgres server restart (`pg_ctlcluster ... restart`) while a worker process drains
 * 5,000 tasks: every task completes, none runs twice, and the worker never exits.
 *
 * The restart briefly drops every connection to the server, so other tests using
 * Postgres at that moment see it too: the test is kept short, and it does not end
 * before the server answers again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  randomSchema,
} from "./fixtures/postgres-test-db.ts";
import { executions } from "./worker-processes.ts";

const FIXTURE = join(import.meta.dir, "fixtures/postgres-restart-worker.ts");
const TASKS = 5000;

/** The local cluster to restart: the one version under /etc/postgresql, cluster `main`. */
function clusterVersion(): string {
  const versions = readdirSync("/etc/postgresql");
  if (versions.length !== 1) {
    throw new Error(
      `expected one PostgreSQL version under /etc/postgresql, found: ${versions.join(", ") || "none"}`,
    );
  }
  return versions[0];
}

async function restartServer(): Promise<void> {
  const proc = Bun.spawn(
    ["pg_ctlcluster", "--skip-systemctl-redirect", clusterVersion(), "main", "restart"],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`pg_ctlcluster restart failed (exit code ${code}): ${out}${err}`);
}

/** Waits until a fresh connection can run `SELECT 1`. */
async function waitForServer(timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const sql = postgres(TEST_POSTGRES_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
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

let admin: postgres.Sql;
beforeAll(async () => {
  admin = await adminClient();
});
afterAll(async () => {
  await admin.end({ timeout: 5 });
});

describe("Postgres server restart", () => {
  test(`a worker draining ${TASKS} tasks across a restart runs every task exactly once and keeps running`, async () => {
    const schema = randomSchema("stem_restart");
    const url = `${TEST_POSTGRES_URL}${TEST_POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
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
      await restartServer();
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
      // Whatever happened, leave the server up for the tests after this one.
      await waitForServer(60_000);
      await dropSchema(admin, schema);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
