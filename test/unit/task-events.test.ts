/** Task events in one process (memory adapter): streams, filters, unsubscribing, waits. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskStatus } from "../../src/core/states.ts";
import { splitBySize } from "../../src/events/control-bus-events.ts";
import { eventsFromStatus, MAX_EVENT_TEXT } from "../../src/events/from-status.ts";
import { defineTask, StemApp, StemError, type TaskEvent, task } from "../../src/index.ts";
import { runExample } from "../fixtures/examples.ts";

const double = defineTask<{ n: number; ms?: number }, number>({
  name: "ev.double",
  run: async (_ctx, { n, ms = 0 }) => {
    if (ms > 0) await Bun.sleep(ms);
    return n * 2;
  },
});
const quiet = defineTask({ name: "ev.quiet", options: { ignoreResult: true }, run: () => 1 });
let quietTries = 0;
const quietFlaky = defineTask({
  name: "ev.quiet-flaky",
  options: { ignoreResult: true, maxRetries: 1, retryBackoff: { kind: "fixed", delay: 10 } },
  run: () => {
    if (++quietTries === 1) throw new Error("first try fails");
    return "second";
  },
});

async function take(stream: AsyncIterable<TaskEvent>, count: number): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for await (const event of stream) if (events.push(event) === count) break;
  return events;
}

describe("task events in one process", () => {
  let app: StemApp;
  /** Live subscriptions on the app's task event bus. */
  let live = 0;

  beforeEach(async () => {
    app = await StemApp.inMemory({ tasks: [double, quiet, quietFlaky] });
    live = 0;
    const bus = app.taskEvents;
    const subscribe = bus.subscribe.bind(bus);
    bus.subscribe = async (handler) => {
      const stop = await subscribe(handler);
      live++;
      return async () => {
        live--;
        await stop();
      };
    };
  });

  afterEach(() => app.close());

  test("streams share one subscription, and leaving the loop unsubscribes", async () => {
    const first = app.events({ name: "ev.double" });
    const second = app.events({ state: "succeeded" });
    await Promise.all([first.ready, second.ready]);
    expect(live).toBe(1);
    const id = await app.enqueue("ev.double", { n: 1 });
    expect((await take(first, 3)).map((e) => e.state)).toEqual(["queued", "started", "succeeded"]);
    expect(live).toBe(1);
    const [done] = await take(second, 1);
    expect(done).toMatchObject({ taskId: id, state: "succeeded", attempt: 1 });
    expect(live).toBe(0);
    expect(await first.next()).toEqual({ value: undefined, done: true });
  });

  test("closing the client ends the streams still open", async () => {
    const stream = app.events();
    await stream.ready;
    const reading = stream.next();
    await app.close();
    expect(await reading).toEqual({ value: undefined, done: true });
    expect(live).toBe(0);
  });

  test("a task that keeps no result (ignoreResult) still sends its events", async () => {
    const stream = app.events({ name: "ev.quiet" });
    await stream.ready;
    const id = await app.enqueue("ev.quiet");
    const events = await take(stream, 3);
    expect(events.map((e) => [e.taskId, e.state])).toEqual([
      [id, "queued"],
      [id, "started"],
      [id, "succeeded"],
    ]);
    expect(await app.getTaskStatus(id)).toBeNull();
  });

  test("a task that keeps no result is retried with events only in its batch, and finishes", async () => {
    // Its `retrying` status is only announced, so the worker writes a batch with nothing to
    // store: that batch once left the writer stuck in a loop.
    const stream = app.events({ name: "ev.quiet-flaky" });
    await stream.ready;
    await app.enqueue("ev.quiet-flaky");
    const events = await take(stream, 5);
    expect(events.map((e) => e.state)).toEqual([
      "queued",
      "started",
      "retried",
      "started",
      "succeeded",
    ]);
    expect(events[2].error).toBe("first try fails");
  });

  test("a task that expired before it ran is announced revoked, with the reason", async () => {
    const stream = app.events({ state: "revoked" });
    await stream.ready;
    const id = await app.enqueue("ev.double", { n: 1 }, { delay: "50ms", expires: "10ms" });
    const [revoked] = await take(stream, 1);
    expect(revoked).toMatchObject({ taskId: id, state: "revoked", reason: "expired" });
  });

  test("a filter with an unknown state or a bad value is refused, naming it", () => {
    expect(() => app.events({ state: "done" as never })).toThrow(
      /unknown state "done" \(known: queued, started/,
    );
    expect(() => app.events({ queue: [""] })).toThrow(StemError);
    expect(() => app.events({ bufferSize: 0 })).toThrow(/bufferSize must be a positive integer/);
  });

  test("a reader that falls behind keeps the newest events and counts the dropped", async () => {
    const stream = app.events({ state: "queued", bufferSize: 2 });
    const everything = app.events({ state: "queued" });
    await Promise.all([stream.ready, everything.ready]);
    const ids = await app.stem.enqueueMany(
      [1, 2, 3, 4, 5].map((n) => ({ name: "ev.double", args: { n } })),
    );
    // Once all five reached the unbounded stream, the bounded one has them too.
    await take(everything, 5);
    expect(stream.dropped).toBe(3);
    expect((await take(stream, 2)).map((e) => e.taskId)).toEqual(ids.slice(3));
  });

  test("waitForTask still finishes through its fallback poll when the events are lost", async () => {
    app.taskEvents.publish = async () => {};
    const id = await app.enqueue("ev.double", { n: 5, ms: 50 });
    const result = await app.waitForTask<number>(id, { timeout: "10s", pollInterval: 50 });
    expect(result.value).toBe(10);
  });

  test("a group handle waits on its members' events, not by polling", async () => {
    const backend = app.backend;
    const get = backend.get.bind(backend);
    let reads = 0;
    backend.get = (id) => {
      reads++;
      return get(id);
    };
    const handle = await app.canvas.group([
      task("ev.double", { n: 1, ms: 600 }),
      task("ev.double", { n: 2, ms: 600 }),
    ]);
    reads = 0;
    expect(await handle.get({ timeout: "10s" })).toEqual([2, 4]);
    // The record read before waiting, the first read in the wait, one per member's final
    // event (and one fallback read should the machine be slow); polling read ~10 times.
    expect(reads).toBeLessThanOrEqual(5);
    expect(live).toBe(0);
  });
});

describe("event contents", () => {
  const status = (fields: Partial<TaskStatus>): TaskStatus => ({
    id: "t1",
    name: "n",
    queue: "q",
    state: "running",
    attempt: 1,
    meta: {},
    createdAt: 1,
    updatedAt: 2,
    ...fields,
  });

  test("long error messages are cut and large progress data is left out", () => {
    const [retried] = eventsFromStatus(
      status({
        state: "retrying",
        error: { type: "Error", message: "x".repeat(5000) },
        meta: { nextRetryAt: 99 },
      }),
    );
    expect(retried.error).toHaveLength(MAX_EVENT_TEXT);
    expect(retried.nextRetryAt).toBe(99);
    const [progress] = eventsFromStatus(
      status({ progress: { percent: 10, data: { blob: "y".repeat(5000) }, at: 2 } }),
    );
    expect(progress).toMatchObject({
      state: "progress",
      progress: { percent: 10, truncated: true },
    });
    expect(eventsFromStatus(status({ state: "pending" }))).toEqual([]);
  });

  test("batches split under a payload limit keep every event, in order", () => {
    const events = Array.from({ length: 200 }, (_, i) =>
      eventsFromStatus(
        status({ id: `t${i}`, state: "failed", error: { type: "E", message: "z".repeat(600) } }),
      ),
    ).flat();
    const chunks = splitBySize(events, 7000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(Buffer.byteLength(JSON.stringify({ events: chunk }))).toBeLessThan(7000);
    expect(chunks.flat()).toEqual(events);
  });
});

test("examples/events.ts prints each task's events and the result its wait got", async () => {
  const run = await runExample("events.ts", [], "silent");
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines).toContain("waitForTask: cat.png@2x");
  const of = (name: string) => lines.filter((l) => l.includes(name)).map((l) => l.split(/\s+/)[0]);
  expect(of("images.resize")).toEqual([
    "queued",
    "started",
    "progress",
    "progress",
    "progress",
    "succeeded",
  ]);
  expect(of("images.upload")).toEqual([
    "queued",
    "started",
    "retried",
    "started",
    "failed",
    "dead-lettered",
  ]);
}, 30_000);
