/**
 * Task events across processes on every adapter with another process: a worker process
 * runs the tasks; this process enqueues, reads `client.events()` and waits.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient, type TaskEvent } from "../../src/index.ts";
import { type StoreKind, type TestStore, openTestStore } from "./fixtures/test-stores.ts";
import { startWorker } from "./worker-processes.ts";

/** Reads events until `until` says the collection is complete. */
async function collect(
  stream: AsyncIterable<TaskEvent>,
  until: (events: TaskEvent[]) => boolean,
): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for await (const event of stream) {
    events.push(event);
    if (until(events)) break;
  }
  return events;
}

const statesOf = (events: TaskEvent[], id: string) =>
  events.filter((e) => e.taskId === id).map((e) => e.state);

/**
 * The worker's events of a task, in order, after checking the producer's `queued` came
 * too (from another process, so it may arrive after the worker's first ones).
 */
function workerStates(events: TaskEvent[], id: string) {
  const states = statesOf(events, id);
  expect(states.filter((s) => s === "queued")).toEqual(["queued"]);
  return states.filter((s) => s !== "queued");
}

for (const kind of ["sqlite", "redis", "postgres"] as StoreKind[]) {
  describe(`task events across processes on ${kind}`, () => {
    let store: TestStore;
    let client: StemClient;
    let worker: ReturnType<typeof startWorker>;
    let dir: string;

    beforeEach(async () => {
      store = await openTestStore(kind, "events");
      client = await StemClient.fromUrl(store.url);
      dir = mkdtempSync(join(tmpdir(), "stem-events-"));
      worker = startWorker(store.url, join(dir, "runs.log"), 10, "default,other");
      await worker.ready;
    }, 30_000);

    afterEach(async () => {
      worker.proc.kill("SIGTERM");
      await worker.proc.exited;
      await client.close();
      await store.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    test("a stream sees every lifecycle event a worker process sends, in order per task", async () => {
      const stream = client.events();
      await stream.ready;
      const ok = await client.enqueue("e2e.progress", { n: 21 });
      const failing = await client.enqueue("e2e.fail");
      const events = await collect(
        stream,
        (all) =>
          all.some((e) => e.taskId === ok && e.state === "succeeded") &&
          all.some((e) => e.taskId === failing && e.state === "dead-lettered") &&
          all.filter((e) => e.state === "queued").length === 2,
      );
      expect(workerStates(events, ok)).toEqual(["started", "progress", "succeeded"]);
      expect(workerStates(events, failing)).toEqual([
        "started",
        "retried",
        "started",
        "failed",
        "dead-lettered",
      ]);
      const progress = events.find((e) => e.taskId === ok && e.state === "progress")!;
      expect(progress.progress).toEqual({ percent: 50, data: { half: true } });
      const retried = events.find((e) => e.state === "retried")!;
      expect(retried).toMatchObject({ name: "e2e.fail", queue: "default", attempt: 1 });
      expect(retried.error).toBe("boom");
      expect(retried.nextRetryAt).toBeGreaterThan(0);
      const failed = events.find((e) => e.state === "failed")!;
      expect(failed).toMatchObject({ attempt: 2, error: "boom" });
      expect(failed.workerId).toBeString();
      // The stream is closed by the break: nothing more arrives.
      expect(await stream.next()).toEqual({ value: undefined, done: true });
    }, 30_000);

    test("filters by queue, task name and state", async () => {
      const finals = client.events({ state: ["succeeded", "failed"] });
      const other = client.events({ queue: "other" });
      const failures = client.events({ name: "e2e.fail", state: "dead-lettered" });
      await Promise.all([finals.ready, other.ready, failures.ready]);
      const a = await client.enqueue("e2e.progress", { n: 1 });
      const b = await client.enqueue("e2e.progress", { n: 2 }, { queue: "other" });
      const c = await client.enqueue("e2e.fail");
      const final = await collect(finals, (all) => all.length === 3);
      expect(final.map((e) => `${e.taskId}:${e.state}`).sort()).toEqual(
        [`${a}:succeeded`, `${b}:succeeded`, `${c}:failed`].sort(),
      );
      const onOther = await collect(
        other,
        (all) => all.some((e) => e.state === "succeeded") && all.some((e) => e.state === "queued"),
      );
      expect(new Set(onOther.map((e) => e.taskId))).toEqual(new Set([b]));
      expect(workerStates(onOther, b)).toEqual(["started", "progress", "succeeded"]);
      const dead = await collect(failures, () => true);
      expect(dead.map((e) => [e.taskId, e.state])).toEqual([[c, "dead-lettered"]]);
    }, 30_000);

    test("a batch of events larger than a NOTIFY payload arrives whole", async () => {
      const stream = client.events({ state: "queued" });
      await stream.ready;
      // Not consumed by the worker: queue "idle" has none.
      const ids = await client.stem.enqueueMany(
        Array.from({ length: 300 }, (_, n) => ({
          name: "e2e.progress",
          args: { n },
          options: { queue: "idle" },
        })),
      );
      const events = await collect(stream, (all) => all.length === 300);
      expect(events.map((e) => e.taskId)).toEqual(ids);
    }, 30_000);

    test("waitForTask is woken by the worker's event instead of polling the backend", async () => {
      const backend = client.stem.backend;
      const get = backend.get.bind(backend);
      let reads = 0;
      backend.get = (id) => {
        reads++;
        return get(id);
      };
      const id = await client.enqueue("e2e.progress", { n: 4, ms: 800 });
      // A fallback poll longer than the test: only the event can end the wait in time.
      const result = await client.waitForTask<number>(id, { timeout: "20s", pollInterval: "1h" });
      expect(result.state).toBe("succeeded");
      expect(result.value).toBe(8);
      // The read before waiting and the read after the final event (polling every 5 to
      // 200 ms, as before, reads about eight times in 800 ms).
      expect(reads).toBeLessThanOrEqual(2);
    }, 30_000);
  });
}
