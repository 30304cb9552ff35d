/**
 * `explainTask` (what `stem observe why` prints) on SQLite, Redis and Postgres: each
 * situation that holds a task is set up for real, and the explanation must name the
 * cause and its key fact (the due time, the paused queue, the missing workers, the
 * exhausted limit, the silent worker and its lease end, the missing chord members, ...).
 */
import { describe, expect, test } from "bun:test";
import { defineTask, explainTask, task } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { slotHolder, taskSlotsKey } from "../../src/worker/concurrency-gate.ts";
import { persistPause } from "../../src/worker/revocations.ts";
import { revokeEntries } from "../../src/worker/revoke-entries.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const openClient = clientPerTest();

const ok = defineTask<{ n: number }>({ name: "why.ok", run: (_ctx, { n }) => n * 2 });
const broken = defineTask({
  name: "why.broken",
  options: { maxRetries: 0 },
  run: () => {
    throw new Error("disk full");
  },
});
const limited = defineTask({ name: "why.limited", options: { rateLimit: "1/m" }, run: () => 1 });
const unique = defineTask({ name: "why.unique", options: { unique: true }, run: () => 1 });
const TASKS = [ok, broken, limited, unique];

const iso = (ms: number) => new Date(ms).toISOString();

/** A heartbeat for a worker that is not a real process (a busy or a silent one). */
function heartbeat(
  workerId: string,
  queues: string[],
  timestamp: number,
  inflight = 0,
  processed = 0,
) {
  return {
    workerId,
    host: "h",
    pid: 1,
    queues,
    concurrency: 1,
    inflight,
    processed,
    failed: 0,
    startedAt: timestamp - 60_000,
    timestamp,
    extras: { heartbeatIntervalMs: 1000 },
  };
}

for (const adapter of ADAPTERS.filter((a) => a.name !== "memory")) {
  describe(`stem observe why on ${adapter.name}`, () => {
    const open = () => openClient(adapter, "why", { tasks: TASKS });

    test("not due yet: the due time and how long until it", async () => {
      const c = await open();
      const id = await c.stem.enqueue("why.ok", { n: 1 }, { delay: "10m" });
      const due = (await c.getTaskStatus(id))!.meta.notBefore as number;
      const why = await explainTask(c, id);
      expect(why.cause).toBe("not-due");
      expect(why.summary).toContain(iso(due));
      expect(why.summary).toMatch(/in (9m5\ds|10m)/);
    });

    test("no live worker consumes the queue: the live workers and their queues are listed", async () => {
      const c = await open();
      await c.backend.setHeartbeat(heartbeat("w-elsewhere", ["emails"], Date.now()), 60_000);
      const id = await c.stem.enqueue("why.ok", { n: 1 });
      const why = await explainTask(c, id);
      expect(why.cause).toBe("no-worker");
      expect(why.summary).toContain("No live worker consumes queue default");
      expect(why.summary).toContain("w-elsewhere (emails)");
      expect(why.fix).toContain("--queue default");
    });

    test("queued behind others on a busy queue: the ready count and the consumers", async () => {
      const c = await open();
      // 120 tasks in its minute alive: 2 a second.
      await c.backend.setHeartbeat(heartbeat("w-busy", ["default"], Date.now(), 1, 120), 60_000);
      await c.stem.enqueueMany([1, 2].map((n) => ({ name: "why.ok", args: { n } })));
      const id = await c.stem.enqueue("why.ok", { n: 3 });
      const why = await explainTask(c, id);
      expect(why.cause).toBe("queued");
      expect(why.evidence).toMatchObject({ queue: "default", ready: 3 });
      expect(why.summary).toContain("3 task(s) are ready");
      expect(why.summary).toContain("1 of 1 slot(s) busy");
      expect(why.summary).toContain("about 120 tasks a minute");
      expect(why.summary).toContain("should start in about 1s");
      expect(why.evidence.drainPerMinute).toBe(120);
    });

    test("a queued status the broker holds nothing for: said so, with the likely reasons", async () => {
      const c = await open();
      await c.backend.setHeartbeat(heartbeat("w-idle", ["default"], Date.now()), 60_000);
      const now = Date.now();
      const id = "why-never-published";
      // What a producer that died between storing the status and publishing leaves.
      await c.backend.set([
        {
          id,
          name: "why.ok",
          queue: "default",
          state: "queued",
          attempt: 0,
          meta: {},
          createdAt: now,
          updatedAt: now,
        },
      ]);
      const why = await explainTask(c, id);
      expect(why.cause).toBe("queued");
      expect(why.summary).toContain("no task is ready there now (0 delayed, 0 in flight)");
      expect(why.summary).toContain("never published");
    });

    test("the queue is paused: which queue, since when, by whom, and the resume command", async () => {
      const c = await open();
      await persistPause(c.revokeStore, ["default"], true, Date.now(), "ops-alice");
      const id = await c.stem.enqueue("why.ok", { n: 1 });
      const why = await explainTask(c, id);
      expect(why.cause).toBe("queue-paused");
      expect(why.summary).toContain("Queue default is paused");
      expect(why.summary).toContain("ops-alice");
      expect(why.fix).toBe("stem worker resume --queue default");
    });

    test("held by a worker whose heartbeat stopped: when, and when its lease ends", async () => {
      const c = await open();
      const silentAt = Date.now() - 30_000;
      await c.backend.setHeartbeat(heartbeat("w-dead", ["default"], silentAt, 1), 3_600_000);
      const id = "why-held-task";
      await c.backend.set([
        {
          id,
          name: "why.ok",
          queue: "default",
          state: "running",
          attempt: 1,
          meta: {},
          createdAt: silentAt - 1000,
          updatedAt: silentAt - 500,
          startedAt: silentAt - 500,
          workerId: "w-dead",
          timeline: [
            { event: "started", at: silentAt - 500, worker: "w-dead", attempt: 1, leaseMs: 60_000 },
          ],
        },
      ]);
      const why = await explainTask(c, id);
      expect(why.cause).toBe("worker-lost");
      expect(why.summary).toContain(`worker w-dead, whose heartbeat stopped at ${iso(silentAt)}`);
      expect(why.summary).toContain(`lease ends by ${iso(silentAt + 60_000)}`);
      expect(why.evidence).toMatchObject({ leaseEndsAt: silentAt + 60_000 });
    });

    test("a chord waits on its members: the missing ones are named", async () => {
      const c = await open();
      const handle = await c.canvas.chord(
        [task("why.ok", { n: 1 }), task("why.ok", { n: 2 })],
        task("why.ok", { n: 3 }),
      );
      const why = await explainTask(c, handle.id);
      expect(why.cause).toBe("waiting-on-members");
      const missing = (await handle.unsettled()).map((m) => m.id);
      expect(missing).toHaveLength(2);
      for (const id of missing) expect(why.summary).toContain(id);
    });

    test("revoked but not yet received: when and by whom", async () => {
      const c = await open();
      const id = await c.stem.enqueue("why.ok", { n: 1 });
      const now = Date.now();
      await c.revokeStore.upsertAll(
        revokeEntries([id], { terminate: false, reason: "bad input", requestedBy: "ops-bob" }, now),
      );
      const why = await explainTask(c, id);
      expect(why.cause).toBe("revoked");
      expect(why.summary).toContain(`Revoked at ${iso(now)} by ops-bob (bad input)`);
    });

    test("expired before it ran: the expiry time", async () => {
      const c = await open();
      const id = await c.stem.enqueue("why.ok", { n: 1 }, { expires: 1 });
      const expiresAt = (await c.getTaskStatus(id))!.timeline![0].expiresAt!;
      await Bun.sleep(5);
      const why = await explainTask(c, id);
      expect(why.cause).toBe("expired");
      expect(why.summary).toContain(iso(expiresAt));
    });

    test("global concurrency full: the limit, the slots taken and who holds them", async () => {
      const c = await open();
      // Two workers (not real processes here) hold both slots of the task name's limit.
      const key = taskSlotsKey("why.ok");
      const holder = slotHolder("w-1.1", "t-running-a", 1);
      expect(await c.concurrencySlots.acquire(key, holder, 2, 60_000)).toBe(true);
      expect(await c.concurrencySlots.acquire(key, "w-2.1/t-running-b", 2, 60_000)).toBe(true);
      const id = await c.stem.enqueue("why.ok", { n: 1 });
      const why = await explainTask(c, id);
      expect(why.cause).toBe("concurrency-limit");
      expect(why.summary).toContain("task why.ok");
      expect(why.summary).toContain("2 of 2 slot(s) taken");
      expect(why.summary).toContain("task t-running-a on w-1.1");
      expect(why.evidence).toMatchObject({ limit: 2, used: 2 });
      // A free slot: the limit no longer holds it.
      await c.concurrencySlots.release(key, "w-2.1/t-running-b");
      expect((await explainTask(c, id)).cause).not.toBe("concurrency-limit");
    });

    test("a unique task whose lock another task holds: that task is named", async () => {
      const c = await open();
      const first = await c.stem.enqueue("why.unique", {}, { unique: { ttl: "200ms" } });
      // The lock lapses; the next enqueue with the same key takes it.
      const second = await eventually(async () => {
        const id = await c.stem.enqueue("why.unique", {}, { unique: { ttl: "1m" } });
        return id !== first ? id : undefined;
      }, 5000);
      const why = await explainTask(c, first);
      expect(why.cause).toBe("unique-lock");
      expect(why.summary).toContain(`held by task ${second}`);
    });

    test("worker-run outcomes: finished, dead-lettered with the replay command, rate-limited", async () => {
      const c = await open();
      const done = await c.stem.enqueue("why.ok", { n: 21 });
      const failed = await c.stem.enqueue("why.broken", {});
      const [, waiting] = await c.stem.enqueueMany([
        { name: "why.limited", args: {} },
        { name: "why.limited", args: {} },
      ]);
      await c.createWorker({ concurrency: 2 }).start();
      await c.waitForTask(done, { timeout: 20_000 });
      // eventually() takes null for an answer: wait for the dead letter itself.
      await eventually(
        async () => (await c.broker.getDeadLetter(failed)) ?? undefined,
        20_000,
        "the dead letter",
      );
      await eventually(
        async () => (await c.getTaskStatus(waiting))?.timeline?.at(-1)?.event === "rate-limited",
        20_000,
        "the rate-limit deferral",
      );

      const finished = await explainTask(c, done);
      expect(finished.cause).toBe("finished");
      expect(finished.summary).toContain("succeeded");
      expect(finished.summary).toContain("with result 42");

      const dead = await explainTask(c, failed);
      expect(dead.cause).toBe("dead-lettered");
      expect(dead.summary).toContain("max-retries-exhausted");
      expect(dead.summary).toContain("disk full");
      expect(dead.fix).toBe(`replay it: stem dlq replay ${failed}`);

      const limitedWhy = await explainTask(c, waiting);
      expect(limitedWhy.cause).toBe("rate-limited");
      expect(limitedWhy.summary).toContain("1 per 1m, bucket rate:why.limited");
      expect(limitedWhy.evidence.dueAt as number).toBeGreaterThan(Date.now());
    }, 40_000);

    test("an unknown id is a not_found error naming the id", async () => {
      const c = await open();
      await expect(explainTask(c, "no-such-task")).rejects.toThrow(/no task with id no-such-task/);
    });
  });
}
