/**
 * Beat with a fake clock and the in-memory stores: what it dispatches, when it sleeps,
 * how it records runs, and how two Beats sharing stores fire each due time once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { LockStore, ScheduleStore, StoreConnection } from "../../src/adapters/contracts.ts";
import { openMemory } from "../../src/adapters/memory/index.ts";
import type { TaskCall } from "../../src/core/definition.ts";
import { StemError } from "../../src/core/errors.ts";
import { signals } from "../../src/core/signals.ts";
import { Stem } from "../../src/core/stem.ts";
import { applySchedules } from "../../src/scheduler/apply.ts";
import {
  Beat,
  type BeatOptions,
  type BeatProducer,
  type BeatSkip,
  scheduleLockKey,
} from "../../src/scheduler/beat.ts";
import { scheduledTaskId } from "../../src/scheduler/dispatch-id.ts";
import { parseEntryDefinition } from "../../src/scheduler/entry-definition.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { injectPublishFaults } from "../../src/testing/faults.ts";

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const MINUTE = 60_000;

/** Lets pending promise continuations (store calls, Beat's batch) run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the clock in steps, letting Beat run between them (retries that sleep again). */
async function advanceInSteps(clock: FakeClock, ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

interface Harness {
  clock: FakeClock;
  connection: StoreConnection;
  store: ScheduleStore;
  locks: LockStore;
  stem: Stem;
  beats: Beat[];
  skips: BeatSkip[];
  beat(options?: Partial<BeatOptions>): Beat;
  define(...items: Record<string, unknown>[]): Promise<void>;
  pending(queue?: string): Promise<number>;
}

const harnesses: Harness[] = [];

function harness(start = T0): Harness {
  const clock = new FakeClock(start);
  const connection = openMemory("memory://", { clock });
  const stem = new Stem({
    broker: connection.broker(),
    backend: connection.resultBackend(),
    clock,
  });
  const h: Harness = {
    clock,
    connection,
    store: connection.scheduleStore(),
    locks: connection.lockStore(),
    stem,
    beats: [],
    skips: [],
    beat(options = {}) {
      const beat = new Beat({
        scheduleStore: h.store,
        lockStore: h.locks,
        stem,
        clock,
        random: () => 0.5,
        onSkip: (skip) => h.skips.push(skip),
        ...options,
      });
      h.beats.push(beat);
      return beat;
    },
    async define(...items) {
      await applySchedules(
        h.store,
        items.map((i) => parseEntryDefinition({ task: "demo.tick", ...i })),
        { clock },
      );
    },
    async pending(queue = "default") {
      const [stats] = await connection.broker().stats([queue]);
      return stats.pending + stats.delayed;
    },
  };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    for (const beat of h.beats) await beat.stop();
    await h.connection.close();
  }
  signals.scheduleEntryDue.clear();
  signals.scheduleEntryDispatched.clear();
  signals.scheduleEntryFailed.clear();
});

describe("Beat dispatch", () => {
  test("a due entry is dispatched once, with a deterministic id, the entry's queue, headers, args and kwargs", async () => {
    const h = harness();
    await h.define({
      id: "report",
      task: "reports.generate",
      queue: "reports",
      schedule: { kind: "interval", every: "1m" },
      args: { format: "pdf" },
      kwargs: { report: "daily" },
      meta: { team: "data" },
    });
    const beat = h.beat();
    await beat.start();
    await h.clock.advance(MINUTE - 1);
    expect(await h.pending("reports")).toBe(0);
    await h.clock.advance(1);
    await settle();
    const id = scheduledTaskId("report", T0 + MINUTE);
    expect(id).toBe(`sched-report-${T0 + MINUTE}`);
    const [delivery] = await h.connection
      .broker()
      .fetch(["reports"], { max: 10, leaseMs: 1000, consumer: "t" });
    expect(delivery.envelope).toMatchObject({
      id,
      name: "reports.generate",
      queue: "reports",
      args: { format: "pdf" },
      headers: { "scheduled-from": "beat", "schedule-id": "report" },
      meta: { team: "data", kwargs: { report: "daily" } },
    });
    expect((await h.stem.getTaskStatus(id))?.state).toBe("queued");
    const entry = await h.store.get("report");
    expect(entry).toMatchObject({
      totalRunCount: 1,
      lastRunAt: T0 + MINUTE,
      nextRunAt: T0 + 2 * MINUTE,
      drift: 0,
    });
    const [run] = await h.store.history("report");
    expect(run).toMatchObject({
      scheduledFor: T0 + MINUTE,
      executedAt: T0 + MINUTE,
      success: true,
      driftMs: 0,
      jitterMs: 0,
    });
    expect(beat.stats.dispatched).toBe(1);
  });

  test("Beat takes the lock ahead of the due time and publishes exactly at it", async () => {
    const h = harness();
    await h.define({ id: "ahead", schedule: "every:1m" });
    const beat = h.beat({ id: "beat-1", prepareAhead: "500ms" });
    await beat.start();
    await h.clock.advance(MINUTE - 400);
    await settle();
    expect(await h.locks.ownerOf(scheduleLockKey("ahead"))).toBe("beat-1");
    expect(await h.pending()).toBe(0);
    await h.clock.advance(400);
    await settle();
    expect(await h.pending()).toBe(1);
    expect((await h.store.get("ahead"))?.drift).toBe(0);
    expect(await h.locks.ownerOf(scheduleLockKey("ahead"))).toBeNull();
  });

  test("jitter delays the task by a random part of the entry's jitter and is recorded", async () => {
    const h = harness();
    await h.define({ id: "jittery", schedule: "every:1m", jitter: "10s" });
    const beat = h.beat({ random: () => 0.5 });
    await beat.start();
    await h.clock.advance(MINUTE);
    await settle();
    const [stats] = await h.connection.broker().stats(["default"]);
    expect(stats.delayed).toBe(1);
    expect(
      await h.connection.broker().fetch(["default"], { max: 1, leaseMs: 1000, consumer: "t" }),
    ).toEqual([]);
    const [run] = await h.store.history("jittery");
    expect(run.jitterMs).toBe(5000);
    await h.clock.advance(5000);
    const [delivery] = await h.connection
      .broker()
      .fetch(["default"], { max: 1, leaseMs: 1000, consumer: "t" });
    expect(delivery.envelope.id).toBe(scheduledTaskId("jittery", T0 + MINUTE));
    expect(delivery.envelope.notBefore).toBe(T0 + MINUTE + 5000);
  });

  test("a late dispatch records its drift and signals it", async () => {
    const h = harness();
    await h.define({ id: "late", schedule: "every:1m" });
    await h.clock.advance(MINUTE + 3000);
    const dispatched: { entryId: string; driftMs: number; taskId: string }[] = [];
    signals.scheduleEntryDispatched.connect((p) => {
      dispatched.push(p);
    });
    const beat = h.beat();
    await beat.start();
    await settle();
    // Late by less than the missed-run grace: the due time itself fires, late.
    expect(dispatched).toEqual([
      {
        entryId: "late",
        taskName: "demo.tick",
        scheduledFor: T0 + MINUTE,
        taskId: scheduledTaskId("late", T0 + MINUTE),
        driftMs: 3000,
      },
    ] as never);
    expect((await h.store.get("late"))?.drift).toBe(3000);
  });

  test("a run-once entry and a clocked entry run once and are disabled", async () => {
    const h = harness();
    await h.define(
      { id: "clocked", schedule: { kind: "clocked", runAt: new Date(T0 + 10_000).toISOString() } },
      { id: "once", schedule: "every:30s", runOnce: true },
    );
    const beat = h.beat();
    await beat.start();
    await h.clock.advance(10 * MINUTE);
    await settle();
    for (const id of ["clocked", "once"]) {
      const entry = await h.store.get(id);
      expect(entry).toMatchObject({ enabled: false, totalRunCount: 1 });
      expect(entry?.nextRunAt).toBeUndefined();
    }
    expect(await h.pending()).toBe(2);
  });

  test("an entry's last run before expireAt disables it; an entry found past expireAt is disabled without running", async () => {
    const h = harness();
    await h.define(
      { id: "ends", schedule: "every:1m", expireAt: new Date(T0 + 90_000).toISOString() },
      { id: "stale", schedule: "every:1m", expireAt: new Date(T0 + 150_000).toISOString() },
    );
    // Beat is down until after "stale" expired: it never runs.
    await h.clock.advance(200_000);
    const beat = h.beat();
    await beat.start();
    await settle();
    const stale = await h.store.get("stale");
    expect(stale).toMatchObject({ enabled: false, totalRunCount: 0 });
    expect(beat.stats.expired).toBe(2);
    // "ends" expired too while Beat was down.
    expect((await h.store.get("ends"))?.enabled).toBe(false);
    expect(await h.pending()).toBe(0);

    const h2 = harness();
    await h2.define({
      id: "ends",
      schedule: "every:1m",
      expireAt: new Date(T0 + 90_000).toISOString(),
    });
    const beat2 = h2.beat();
    await beat2.start();
    await h2.clock.advance(5 * MINUTE);
    await settle();
    expect(await h2.store.get("ends")).toMatchObject({
      enabled: false,
      totalRunCount: 1,
      lastRunAt: T0 + MINUTE,
    });
    expect(await h2.pending()).toBe(1);
  });

  test("a publish that keeps failing is retried within the grace, then recorded with its error, signalled, and the entry moves on", async () => {
    const h = harness();
    await h.define({ id: "broken", task: "no.such.task", schedule: "every:1m" });
    const strict = new Stem({
      broker: h.connection.broker(),
      backend: h.connection.resultBackend(),
      clock: h.clock,
      tasks: [],
    });
    let attempts = 0;
    const producer: BeatProducer = {
      backend: strict.backend,
      enqueueOnce: async (calls: TaskCall[]) => {
        attempts++;
        throw new StemError("store_unavailable", `broker unreachable (${calls.length} tasks)`);
      },
    };
    const failed: { entryId: string; error: string }[] = [];
    signals.scheduleEntryFailed.connect((p) => {
      failed.push(p);
    });
    const beat = h.beat({ stem: producer, missedRunGrace: "5s" });
    await beat.start();
    await h.clock.advance(MINUTE);
    await settle();
    // Not recorded yet: Beat tries again, backing off, within the missed-run grace.
    expect(failed).toEqual([]);
    await advanceInSteps(h.clock, 5_000);
    // At the due time, then 250 ms, 500 ms, 1 s and 2 s later; 4 s more would pass the grace.
    expect(attempts).toBe(5);
    expect(failed).toEqual([
      {
        entryId: "broken",
        taskName: "no.such.task",
        scheduledFor: T0 + MINUTE,
        error: "broker unreachable (1 tasks)",
      },
    ] as never);
    const entry = await h.store.get("broken");
    expect(entry).toMatchObject({
      totalRunCount: 1,
      lastError: "broker unreachable (1 tasks)",
      nextRunAt: T0 + 2 * MINUTE,
    });
    const [run] = await h.store.history("broken");
    expect(run).toMatchObject({ success: false, error: "broker unreachable (1 tasks)" });
    expect(beat.stats.failed).toBe(1);
  });

  test("a due run whose first publish fails is published exactly once by the retry", async () => {
    const h = harness();
    await h.define({ id: "blip", schedule: "every:1m" });
    const broker = injectPublishFaults(h.connection.broker(), { method: "publish", nth: 1 });
    const producer = new Stem({
      broker: broker.store,
      backend: h.connection.resultBackend(),
      clock: h.clock,
    });
    const beat = h.beat({ stem: producer });
    await beat.start();
    await h.clock.advance(MINUTE);
    await settle();
    expect(broker.injected()).toBe(1);
    expect(await h.pending()).toBe(0);
    await advanceInSteps(h.clock, 250);
    expect(broker.calls("publish")).toBe(2);
    expect(await h.pending()).toBe(1);
    const id = scheduledTaskId("blip", T0 + MINUTE);
    expect((await h.connection.resultBackend().get(id))?.state).toBe("queued");
    const entry = await h.store.get("blip");
    expect(entry).toMatchObject({ totalRunCount: 1, nextRunAt: T0 + 2 * MINUTE });
    expect(entry?.lastError).toBeUndefined();
    const [run] = await h.store.history("blip");
    expect(run).toMatchObject({ success: true, scheduledFor: T0 + MINUTE });
    expect(beat.stats).toMatchObject({ dispatched: 1, failed: 0 });
    // The next due time is dispatched as usual, once.
    await advanceInSteps(h.clock, MINUTE, 10_000);
    expect(await h.pending()).toBe(2);
  });

  /**
   * A Beat whose first publish is stored but its reply lost, started and advanced to the
   * entry's first due time (every minute); returns the broker that counts publishes.
   */
  async function beatLosingFirstReply(h: Harness, id: string) {
    await h.define({ id, schedule: "every:1m" });
    const broker = injectPublishFaults(h.connection.broker(), {
      method: "publish",
      nth: 1,
      when: "after",
    });
    const producer = new Stem({
      broker: broker.store,
      backend: h.connection.resultBackend(),
      clock: h.clock,
    });
    await h.beat({ stem: producer }).start();
    await h.clock.advance(MINUTE);
    return broker;
  }

  test("a due run whose publish reply is lost is not published twice by the retry", async () => {
    const h = harness();
    const broker = await beatLosingFirstReply(h, "lost-reply");
    await advanceInSteps(h.clock, 250);
    expect(broker.calls("publish")).toBe(2);
    expect(await h.pending()).toBe(1);
    expect(await h.store.history("lost-reply")).toMatchObject([{ success: true }]);
  });

  test("a due run that ran and finished before the retry of its lost-reply publish is not run again", async () => {
    const h = harness();
    const broker = await beatLosingFirstReply(h, "ran-already");
    // A worker runs the task before the retry.
    const [delivery] = await h.connection
      .broker()
      .fetch(["default"], { max: 1, leaseMs: 60_000, consumer: "w" });
    const backend = h.connection.resultBackend();
    const [queued] = await backend.getMany([delivery.envelope.id]);
    await backend.set([{ ...queued!, state: "succeeded", updatedAt: h.clock.now() }]);
    await h.connection.broker().ack([delivery]);
    await advanceInSteps(h.clock, 250);
    expect(broker.calls("publish")).toBe(2);
    expect(await h.pending()).toBe(0);
    expect((await backend.get(delivery.envelope.id))?.state).toBe("succeeded");
    expect(await h.store.history("ran-already")).toMatchObject([{ success: true }]);
  });

  test("an unknown task is not retried: it is recorded as failed at once", async () => {
    const h = harness();
    await h.define({ id: "unknown", task: "demo.unknown", schedule: "every:1m" });
    const producer = new Stem({
      broker: h.connection.broker(),
      backend: h.connection.resultBackend(),
      clock: h.clock,
      tasks: [],
    });
    const beat = h.beat({ stem: producer });
    await beat.start();
    await h.clock.advance(MINUTE);
    await settle();
    expect((await h.store.get("unknown"))?.lastError).toContain('unknown task "demo.unknown"');
  });

  test("one bad entry in a batch does not fail the others", async () => {
    const h = harness();
    await h.define(
      { id: "good", task: "demo.ok", schedule: "every:1m" },
      { id: "bad", task: "demo.unknown", schedule: "every:1m" },
    );
    const producer = new Stem({
      broker: h.connection.broker(),
      backend: h.connection.resultBackend(),
      clock: h.clock,
      tasks: [{ name: "demo.ok", run: () => "ok", options: {} } as never],
    });
    const beat = h.beat({ stem: producer });
    await beat.start();
    await h.clock.advance(MINUTE);
    await settle();
    expect((await h.store.get("good"))?.lastError).toBeUndefined();
    expect((await h.store.get("bad"))?.lastError).toContain('unknown task "demo.unknown"');
    expect(await h.pending()).toBe(1);
  });

  test("signals: due, then dispatched with the drift", async () => {
    const h = harness();
    await h.define({ id: "sig", schedule: "every:1m" });
    const seen: string[] = [];
    signals.scheduleEntryDue.connect((p) => {
      seen.push(`due ${p.entryId} ${p.scheduledFor - T0}`);
    });
    signals.scheduleEntryDispatched.connect((p) => {
      seen.push(`dispatched ${p.entryId} ${p.scheduledFor - T0} drift=${p.driftMs}`);
    });
    await h.beat().start();
    await h.clock.advance(2 * MINUTE);
    await settle();
    expect(seen).toEqual([
      "due sig 60000",
      "dispatched sig 60000 drift=0",
      "due sig 120000",
      "dispatched sig 120000 drift=0",
    ]);
  });
});

/** A schedule store that counts the calls Beat makes. */
function counting(store: ScheduleStore) {
  const calls = { due: 0, nextDueAt: 0, changeToken: 0, list: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === "string" && prop in calls && typeof value === "function") {
        return (...args: unknown[]) => {
          calls[prop as keyof typeof calls]++;
          return value.apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { proxy, calls };
}

describe("Beat sleeping", () => {
  test("sleeps until the next due time: no polling storm over an hour", async () => {
    const h = harness();
    await h.define({ id: "ten", schedule: "every:10m" });
    const { proxy, calls } = counting(h.store);
    const beat = h.beat({ scheduleStore: proxy });
    await beat.start();
    await h.clock.advance(60 * MINUTE);
    await settle();
    expect((await h.store.get("ten"))?.totalRunCount).toBe(6);
    // One tick per due time (plus the first), not one per poll; a tick that dispatches
    // reads the due entries three times (find, re-read under the lock, check before recording).
    expect(calls.due).toBeLessThanOrEqual(3 * 6 + 2);
    expect(calls.nextDueAt).toBeLessThanOrEqual(8);
    // The change token is read about once a second: one cheap read, never in a tight loop.
    expect(calls.changeToken).toBeLessThanOrEqual(3600 + 20);
    expect(beat.stats.ticks).toBeLessThanOrEqual(8);
  });

  test("with nothing scheduled it sleeps, and wakes when the store changes", async () => {
    const h = harness();
    const beat = h.beat();
    await beat.start();
    await h.clock.advance(10 * MINUTE);
    expect(beat.stats.ticks).toBe(1);
    // Another process adds an entry due in 10 s.
    await h.define({
      id: "new",
      schedule: { kind: "clocked", runAt: new Date(h.clock.now() + 10_000).toISOString() },
    });
    await h.clock.advance(1000);
    expect(beat.stats.ticks).toBe(2);
    await h.clock.advance(9000);
    await settle();
    expect((await h.store.get("new"))?.totalRunCount).toBe(1);
  });

  test("an entry due sooner than the one Beat sleeps for is picked up early; wake() wakes at once", async () => {
    const h = harness();
    await h.define({ id: "hourly", schedule: "every:1h" });
    const beat = h.beat({ pollInterval: "1h" });
    await beat.start();
    await h.clock.advance(1000);
    await h.define({
      id: "soon",
      schedule: { kind: "clocked", runAt: new Date(h.clock.now() + 5000).toISOString() },
    });
    // Polling once an hour, Beat would not notice; wake() makes it look now.
    beat.wake();
    await settle();
    await h.clock.advance(5000);
    await settle();
    expect((await h.store.get("soon"))?.totalRunCount).toBe(1);
    expect((await h.store.get("hourly"))?.totalRunCount).toBe(0);
  });

  test("stop() ends the loop and leaves no sleeps behind; a stopped Beat can start again", async () => {
    const h = harness();
    await h.define({ id: "x", schedule: "every:1m" });
    const beat = h.beat();
    await beat.start();
    expect(beat.running).toBe(true);
    // Stopped while waiting for the due time of a prepared batch: nothing is published.
    await h.clock.advance(MINUTE - 200);
    await beat.stop();
    expect(beat.running).toBe(false);
    expect(h.clock.pendingSleeps).toBe(0);
    expect(await h.pending()).toBe(0);
    await beat.start();
    await settle();
    expect(await h.pending()).toBe(0);
    await h.clock.advance(200);
    await settle();
    expect(await h.pending()).toBe(1);
    expect((await h.store.get("x"))?.drift).toBe(0);
  });
});

describe("Beat missed-run policy", () => {
  test("after a long outage an entry fires once, for the latest missed due time, and the skipped runs are reported", async () => {
    const h = harness();
    await h.define({ id: "minutely", schedule: "every:1m" });
    // No Beat for an hour.
    await h.clock.advance(60 * MINUTE + 20_000);
    const beat = h.beat();
    await beat.start();
    await settle();
    expect(await h.pending()).toBe(1);
    expect(
      await h.stem.getTaskStatus(scheduledTaskId("minutely", T0 + 60 * MINUTE)),
    ).not.toBeNull();
    const entry = await h.store.get("minutely");
    expect(entry).toMatchObject({
      totalRunCount: 1,
      lastRunAt: T0 + 60 * MINUTE + 20_000,
      nextRunAt: T0 + 61 * MINUTE,
    });
    expect(h.skips).toHaveLength(1);
    expect(h.skips[0]).toMatchObject({ entryId: "minutely", reason: "missed-runs", skipped: 59 });
    expect(h.skips[0].message).toContain("skipped 59 earlier run(s)");
    expect(beat.stats.skippedRuns).toBe(59);
    // And it carries on normally.
    await h.clock.advance(40_000);
    await settle();
    expect(await h.pending()).toBe(2);
  });

  test("a short gap (within the grace) is caught up run by run, losing nothing", async () => {
    const h = harness();
    await h.define({ id: "secondly", schedule: "every:1s" });
    await h.clock.advance(15_500);
    const beat = h.beat({ lockTtl: "10s" });
    await beat.start();
    await settle(20);
    expect(await h.pending()).toBe(15);
    for (let k = 1; k <= 15; k++) {
      expect(await h.stem.getTaskStatus(scheduledTaskId("secondly", T0 + k * 1000))).not.toBeNull();
    }
    expect(h.skips).toHaveLength(0);
  });
});

describe("Beat with several instances", () => {
  test("two Beats on the same stores fire each due time once", async () => {
    const h = harness();
    await h.define({ id: "shared", schedule: "every:1s" });
    const a = h.beat({ id: "a" });
    const b = h.beat({ id: "b" });
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 30; i++) {
      await h.clock.advance(1000);
      await settle();
    }
    await h.clock.advance(1000);
    await settle(10);
    const entry = await h.store.get("shared");
    expect(await h.pending()).toBe(entry?.totalRunCount as number);
    expect(entry?.totalRunCount).toBeGreaterThanOrEqual(30);
    const history = await h.store.history("shared", 1000);
    expect(new Set(history.map((r) => r.scheduledFor)).size).toBe(history.length);
    expect(a.stats.dispatched + b.stats.dispatched).toBe(entry?.totalRunCount as number);
  });

  test("an entry locked by another Beat is retried shortly, not in a busy loop", async () => {
    const h = harness();
    await h.define({ id: "held", schedule: "every:1m" });
    const { proxy, calls } = counting(h.store);
    const beat = h.beat({ scheduleStore: proxy, retryDelay: "250ms" });
    await beat.start();
    await h.clock.advance(MINUTE - 1000);
    // Another Beat holds the entry's lock (it is about to dispatch it, then dies).
    expect(await h.locks.acquire(scheduleLockKey("held"), "someone-else", 2500)).toBe(true);
    await h.clock.advance(1000);
    await settle();
    expect(beat.stats.contended).toBeGreaterThanOrEqual(1);
    expect(await h.pending()).toBe(0);
    await h.clock.advance(1000);
    await settle();
    // Retried every 250 ms while the lock is held: a handful of reads, not a spin.
    expect(beat.stats.contended).toBeGreaterThanOrEqual(4);
    expect(beat.stats.contended).toBeLessThanOrEqual(8);
    expect(calls.due).toBeLessThanOrEqual(12);
    expect(await h.pending()).toBe(0);
    // The other holder's lock runs out; this Beat takes over and dispatches.
    await h.clock.advance(1000);
    await settle();
    expect(await h.pending()).toBe(1);
    expect((await h.store.get("held"))?.totalRunCount).toBe(1);
  });

  test("a Beat that died between writing the queued status and publishing: the next Beat publishes the task", async () => {
    const h = harness();
    await h.define({ id: "phantom", schedule: "every:1m" });
    await h.clock.advance(MINUTE);
    const id = scheduledTaskId("phantom", T0 + MINUTE);
    // What the dead Beat's producer left behind: a queued status, and no task.
    await h.connection.resultBackend().set([
      {
        id,
        name: "demo.tick",
        queue: "default",
        state: "queued",
        attempt: 0,
        meta: {},
        createdAt: h.clock.now(),
        updatedAt: h.clock.now(),
      },
    ]);
    const beat = h.beat();
    expect(await beat.tick()).toBe(1);
    expect(await h.pending()).toBe(1);
    expect((await h.store.get("phantom"))?.totalRunCount).toBe(1);
    // Publishing again when the task does exist changes nothing: the broker refuses the id.
    await h.store.upsert({ ...(await h.store.get("phantom"))!, nextRunAt: T0 + MINUTE });
    expect(await beat.tick()).toBe(1);
    expect(await h.pending()).toBe(1);
  });

  /** A gate a test opens when it wants. */
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => {
      open = r;
    });
    return { opened, open };
  }

  /** A lock store whose renewals fail, as if the process had been paused past its TTL. */
  function pausedLocks(locks: LockStore): LockStore {
    return {
      acquire: (k, o, t) => locks.acquire(k, o, t),
      renew: async () => false,
      release: (k, o) => locks.release(k, o),
      ownerOf: (k) => locks.ownerOf(k),
      close: () => locks.close(),
    };
  }

  test("a Beat whose lock expires while it publishes and the Beat that takes over fire the due time once", async () => {
    const h = harness();
    await h.define({ id: "race", schedule: "every:1m" });
    await h.clock.advance(MINUTE);
    const publishing = gate();
    const slowStem: BeatProducer = {
      backend: h.stem.backend,
      enqueueOnce: async (calls) => {
        await publishing.opened;
        return h.stem.enqueueOnce(calls);
      },
    };
    const dispatched: string[] = [];
    signals.scheduleEntryDispatched.connect((p) => {
      dispatched.push(p.taskId);
    });
    const a = h.beat({ id: "a", stem: slowStem, lockStore: pausedLocks(h.locks), lockTtl: "1s" });
    const b = h.beat({ id: "b", lockTtl: "1s" });
    const aTick = a.tick();
    await settle();
    // A is stuck publishing; its lock runs out.
    await h.clock.advance(1500);
    expect(await h.locks.ownerOf(scheduleLockKey("race"))).toBeNull();
    expect(await b.tick()).toBe(1);
    publishing.open();
    await aTick;
    const id = scheduledTaskId("race", T0 + MINUTE);
    expect(await h.pending()).toBe(1);
    expect(dispatched).toEqual([id]);
    expect((await h.store.get("race"))?.totalRunCount).toBe(1);
    expect(await h.store.history("race")).toHaveLength(1);
    expect(a.stats.dispatched).toBe(0);
  });

  test("a Beat that published but stalled before recording is not fired again after the task already ran", async () => {
    const h = harness();
    await h.define({ id: "race2", schedule: "every:1m" });
    await h.clock.advance(MINUTE);
    const recording = gate();
    let dueReads = 0;
    const stalledStore = new Proxy(h.store, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "due") {
          return async (now: number, limit?: number) => {
            // Beat reads the due entries three times in a tick: to find them, to plan
            // after locking, and to check before recording. Stall before recording.
            if (++dueReads === 3) await recording.opened;
            return target.due(now, limit);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const a = h.beat({
      id: "a",
      scheduleStore: stalledStore,
      lockStore: pausedLocks(h.locks),
      lockTtl: "1s",
    });
    const b = h.beat({ id: "b", lockTtl: "1s" });
    const aTick = a.tick();
    await settle();
    const id = scheduledTaskId("race2", T0 + MINUTE);
    expect(await h.pending()).toBe(1);
    // A worker runs the task to completion: the broker no longer holds it.
    const broker = h.connection.broker();
    const deliveries = await broker.fetch(["default"], { max: 1, leaseMs: 10_000, consumer: "w" });
    await broker.ack(deliveries);
    const status = await h.stem.getTaskStatus(id);
    await h.connection.resultBackend().set([{ ...status!, state: "succeeded", result: 1 }]);
    await h.clock.advance(1500);
    // B finds the due time already dispatched (by its task id) and records it instead of firing again.
    expect(await b.tick()).toBe(0);
    expect(b.stats.alreadyDispatched).toBe(1);
    recording.open();
    await aTick;
    const [stats] = await broker.stats(["default"]);
    expect(stats.pending + stats.inflight + stats.delayed).toBe(0);
    expect((await h.store.get("race2"))?.totalRunCount).toBe(1);
    expect(await h.store.history("race2")).toHaveLength(1);
    expect((await h.stem.getTaskStatus(id))?.state).toBe("succeeded");
  });
});
