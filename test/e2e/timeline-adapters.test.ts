/**
 * Task timelines written by real producers and workers, on every adapter: who queued a
 * task, each delivery and start, retries, dead letters and replays, a lost lease, the
 * outcome, in order.
 */
import { describe, expect, test } from "bun:test";
import { FixedRetryStrategy, StemClient, buildEnvelope, defineTask } from "../../src/index.ts";
import type { TimelineEntry } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const openClient = clientPerTest();

const failedOnce = new Set<string>();
/** Fails the first time it sees a key, then succeeds. */
function failFirstTime(_ctx: unknown, { key }: { key: string }): string {
  if (failedOnce.has(key)) return "ok";
  failedOnce.add(key);
  throw new Error(`first try of ${key} fails`);
}
const flaky = defineTask<{ key: string }>({
  name: "tl.flaky",
  options: { maxRetries: 1 },
  run: failFirstTime,
});
/** No retries: dead-lettered the first time, succeeds once replayed. */
const once = defineTask<{ key: string }>({
  name: "tl.once",
  options: { maxRetries: 0 },
  run: failFirstTime,
});
const parent = defineTask({
  name: "tl.parent",
  run: (ctx) => ctx.enqueue("tl.child"),
});
const child = defineTask({ name: "tl.child", run: () => "child" });
const TASKS = [flaky, once, parent, child];

const events = (timeline: TimelineEntry[] | undefined) => (timeline ?? []).map((e) => e.event);

for (const adapter of ADAPTERS) {
  describe(`task timelines on ${adapter.name}`, () => {
    const open = () => openClient(adapter, "timeline", { tasks: TASKS });

    async function finished(c: StemClient, id: string) {
      await c.waitForTask(id, { timeout: 20_000 });
      return (await c.getTaskStatus(id))!;
    }

    test("a retried task: queued, each delivery and start, the retry with its error and due time, the success", async () => {
      const c = await open();
      const id = await c.stem.enqueue("tl.flaky", { key: `${adapter.name}-retry` });
      await c.createWorker({ retryStrategy: new FixedRetryStrategy("50ms") }).start();
      const status = await finished(c, id);
      expect(events(status.timeline)).toEqual([
        "queued",
        "delivered",
        "started",
        "retried",
        "delivered",
        "started",
        "succeeded",
      ]);
      const [queued, delivered, , retried, again] = status.timeline!;
      expect(queued.by).toMatch(/^producer /);
      expect(delivered).toMatchObject({ attempt: 1, deliveries: 1 });
      expect(retried).toMatchObject({
        attempt: 1,
        error: `first try of ${adapter.name}-retry fails`,
      });
      expect(retried.dueAt! - retried.at).toBe(50);
      expect(again).toMatchObject({ attempt: 2 });
      expect(status.timeline!.at(-1)).toMatchObject({ event: "succeeded", attempt: 2 });
    }, 30_000);

    test("a dead-lettered task that is replayed: failed, dead-lettered with its reason, replayed, succeeded", async () => {
      const c = await open();
      const id = await c.stem.enqueue("tl.once", { key: `${adapter.name}-replay` });
      await c.createWorker().start();
      // eventually() takes null for an answer: wait for the dead letter itself.
      await eventually(
        async () => (await c.broker.getDeadLetter(id)) ?? undefined,
        20_000,
        "the dead letter",
      );
      await c.broker.replayDeadLetters({ ids: [id] });
      const status = await eventually(async () => {
        const s = await c.getTaskStatus(id);
        return s?.state === "succeeded" ? s : undefined;
      }, 20_000);
      expect(events(status.timeline)).toEqual([
        "queued",
        "delivered",
        "started",
        "failed",
        "dead-lettered",
        "replayed",
        "delivered",
        "started",
        "succeeded",
      ]);
      expect(status.timeline![4]).toMatchObject({ reason: "max-retries-exhausted" });
      expect(status.timeline![5]).toMatchObject({ replays: 1 });
    }, 30_000);

    test("a delivery after a lost lease says so", async () => {
      const c = await open();
      const envelope = buildEnvelope({ name: "tl.child" });
      await c.broker.publish([envelope]);
      // A consumer that takes the task and dies: its lease runs out unacked.
      await c.broker.fetch(["default"], { max: 1, leaseMs: 200, consumer: "ghost" });
      await c.createWorker().start();
      const status = await eventually(async () => {
        const s = await c.getTaskStatus(envelope.id);
        return s?.state === "succeeded" ? s : undefined;
      }, 20_000);
      expect(events(status.timeline)).toEqual(["lease-lost", "delivered", "started", "succeeded"]);
      expect(status.timeline![1]).toMatchObject({ deliveries: 2 });
    }, 30_000);

    test("a task enqueued by a task is queued by its parent", async () => {
      const c = await open();
      const id = await c.stem.enqueue("tl.parent");
      await c.createWorker().start();
      const childId = (await finished(c, id)).result as string;
      const status = await finished(c, childId);
      expect(status.timeline![0]).toMatchObject({ event: "queued", by: `task ${id}` });
    }, 30_000);
  });
}
