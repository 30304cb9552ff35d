/**
 * The runtime on the embedded SQLite store in real time: two apps on one file stand in
 * for two processes (a worker app and a producer app).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemWorkflowApp, WorkflowScript } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const counts = { nap: 0, wait: 0 };
const napper = WorkflowScript({
  name: "sqlite.nap",
  run: async (script) => {
    const started = await script.step("start", () => Date.now());
    return script.step("nap", async (step) => {
      counts.nap++;
      if (step.takeResumeData() !== true) {
        await step.sleep(300);
        return null;
      }
      return Date.now() - started;
    });
  },
});
const waiter = WorkflowScript({
  name: "sqlite.wait",
  run: async (script) =>
    script.step("wait", async (step) => {
      counts.wait++;
      return (await step.awaitEvent<{ ok: boolean }>("sqlite.topic")) ?? null;
    }),
});

async function apps() {
  const dir = mkdtempSync(join(tmpdir(), "stem-wf-sqlite-"));
  const url = `sqlite://${join(dir, "stem.db")}`;
  const worker = await StemWorkflowApp.fromUrl(url, {
    scripts: [napper, waiter],
    workflow: { pollInterval: "50ms" },
    worker: { concurrency: 2 },
  });
  // A producer with no worker of its own, as `stem wf` is.
  const producer = await StemWorkflowApp.fromUrl(url, {
    workflow: { pollInterval: "50ms" },
    worker: { queues: ["unused"] },
  });
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => worker.shutdown(),
    () => producer.shutdown(),
  );
  return { worker, producer };
}

describe("workflows on SQLite", () => {
  test("a run sleeps with its wake time in the file and completes after it", async () => {
    const { worker, producer } = await apps();
    const before = counts.nap;
    const runId = await producer.startWorkflow("sqlite.nap");
    const run = await worker.waitForCompletion(runId, { timeout: 10_000 });
    expect(run.status).toBe("completed");
    expect(run.result as number).toBeGreaterThanOrEqual(300);
    expect(counts.nap - before).toBe(2);
  });

  test("an event emitted by another app resumes the waiting run exactly once", async () => {
    const { worker, producer } = await apps();
    const before = counts.wait;
    const runId = await producer.startWorkflow("sqlite.wait");
    await eventually(async () => (await producer.getRun(runId))?.status === "suspended", 5000);
    const [a, b] = await Promise.all([
      producer.emit("sqlite.topic", { ok: true }),
      worker.emit("sqlite.topic", { ok: false }),
    ]);
    expect([...a, ...b]).toEqual([runId]);
    const run = await producer.waitForCompletion(runId, { timeout: 10_000 });
    expect(run.result).toEqual(a.length ? { ok: true } : { ok: false });
    expect(counts.wait - before).toBe(2);
  });
});
