/**
 * Task callbacks across worker processes (SQLite, Redis, Postgres): a worker process is
 * SIGKILLed right after it started a task's callback, before the task's outcome was stored
 * and acked. Another worker process runs the task again once its lease has run out; the
 * callback, started already, runs exactly once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { StemClient } from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { collectText } from "../cli/binary.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const WORKER = join(import.meta.dir, "fixtures/links-worker.ts");
const LEASE = "1s";
const TIMEOUT = 90_000;
const KINDS: StoreKind[] = ["sqlite", "redis", "postgres"];

const teardown: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of teardown.splice(0).reverse()) await step();
});

/** Starts a worker process on `queues`; with `die`, it kills itself after starting callbacks. */
async function startWorker(url: string, runs: string, queues: string, die: boolean) {
  const child = Bun.spawn([process.execPath, WORKER, url, queues, LEASE], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STEM_LOG_LEVEL: "warn", LINKS_RUNS: runs, LINKS_DIE: die ? "1" : "0" },
  });
  teardown.push(() => void (child.exitCode === null && child.kill("SIGKILL")));
  const log = collectText(child.stderr as ReadableStream<Uint8Array>);
  await eventually(
    () => log().includes("links-worker-ready") || child.exitCode !== null,
    30_000,
    "links worker ready",
  );
  return child as Subprocess;
}

/** How many times each task id ran, from the runs file. */
function runCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {}
  for (const id of text.split("\n").filter(Boolean)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

for (const kind of KINDS) {
  describe(`task callbacks across processes on ${kind}`, () => {
    const cases = [
      { task: "lp.charge", option: "link", suffix: "link", final: "succeeded" },
      { task: "lp.declined", option: "linkError", suffix: "link-error", final: "failed" },
    ] as const;
    for (const { task, option, suffix, final } of cases) {
      test(
        `a ${option} callback started just before its worker was SIGKILLed runs exactly once`,
        async () => {
          const store = await openTestStore(kind, "linkproc");
          teardown.push(() => store.cleanup());
          const folder = mkdtempSync(join(tmpdir(), "stem-links-"));
          teardown.push(() => rmSync(folder, { recursive: true, force: true }));
          const runs = join(folder, "runs.log");
          // A producer that registers no tasks.
          const client = await StemClient.fromUrl(store.url);
          teardown.push(() => client.close());
          const id = await client.enqueue(
            task,
            {},
            {
              [option]: { name: "lp.notify", options: { queue: "notices" } },
            },
          );
          const callback = `${id}:${suffix}:0`;

          // The doomed worker does not consume the callback's queue: only its start counts.
          const doomed = await startWorker(store.url, runs, "default", true);
          expect(await doomed.exited).not.toBe(0);
          expect(doomed.signalCode).toBe("SIGKILL");
          expect(runCounts(runs).get(id)).toBe(1);
          expect((await client.getTaskStatus(callback))?.state).toBe("queued");

          await startWorker(store.url, runs, "default,notices", false);
          const done = await client.waitForTask(callback, { timeout: "30s" });
          expect(done.state).toBe("succeeded");
          if (option === "link") expect(done.value).toMatchObject({ previous: { charged: 100 } });
          else expect(done.value).toMatchObject({ failure: { id, name: task } });
          // The task ran again after its lease ran out; its callback was not started again.
          await eventually(async () => (await client.getTaskStatus(id))?.state === final, 30_000);
          expect(runCounts(runs).get(id)).toBe(2);
          await sleep(500);
          expect(runCounts(runs).get(callback)).toBe(1);
        },
        TIMEOUT,
      );
    }
  });
}
