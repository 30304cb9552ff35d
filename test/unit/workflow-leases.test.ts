/** Run leases, recovery of lost runs and the sweeper lock. */
import { describe, expect, test } from "bun:test";
import {
  MemoryLockStore,
  WorkflowRuntime,
  WorkflowScript,
  WorkflowSweeper,
  FakeStem,
} from "../../src/index.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { reachStatus, START, workflowApp } from "./workflow-test-app.ts";

function counted(name: string, counts: Record<string, number>) {
  return WorkflowScript({
    name,
    run: async (script) => {
      await script.step("one", () => {
        counts.one = (counts.one ?? 0) + 1;
        return 1;
      });
      return script.step("two", () => {
        counts.two = (counts.two ?? 0) + 1;
        return 2;
      });
    },
  });
}

describe("workflow leases and recovery", () => {
  test("a run leased by a worker that died is resumed from its checkpoint once the lease runs out", async () => {
    const counts: Record<string, number> = {};
    const { app, clock } = await workflowApp({ scripts: [counted("lease.dead", counts)] });
    const store = app.runtime.store;
    // A worker that crashed after checkpointing "one", still holding the run's lease.
    const runId = await store.createRun({ workflow: "lease.dead" });
    await store.saveStep(runId, "one", 1);
    expect(await store.claimRun(runId, "dead-worker", 30_000)).toBe(1);

    await app.runtime.enqueueRun(runId, app.runtime.queue, "start");
    // The task finds the run leased and defers itself until the lease can have run out.
    await eventually(
      async () => (await app.stem.broker.stats([app.runtime.queue]))[0]?.delayed === 1,
      3000,
      "deferred task",
    );
    expect(counts).toEqual({});
    await clock.advance(30_000);
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe(2);
    expect(counts).toEqual({ two: 1 });
  });

  test("a running run whose task was lost is enqueued again by the sweep after recoverAfter", async () => {
    const counts: Record<string, number> = {};
    const { app, clock } = await workflowApp({
      scripts: [counted("lease.lost", counts)],
      workflow: { recoverAfter: "2m" },
    });
    // Created but never enqueued, as if the producer died in between.
    const runId = await app.runtime.store.createRun({ workflow: "lease.lost" });
    await app.sweep();
    await sleep(50);
    expect((await app.getRun(runId))!.status).toBe("running");
    expect(counts).toEqual({});
    await clock.advance(120_000);
    await app.sweep();
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(2);
    expect(counts).toEqual({ one: 1, two: 1 });
  });

  test("an execution that loses its lease stops without saving its step", async () => {
    const { app, clock } = await workflowApp({
      workflow: { runLease: "300ms" },
      scripts: [
        WorkflowScript({
          name: "lease.stolen",
          run: async (script) =>
            script.step("slow", async (step) => {
              // Fake time passes the lease and another worker takes the run over.
              await clock.advance(400);
              await app.runtime.store.claimRun(step.runId, "thief", 60_000);
              await eventually(() => step.signal.aborted, 3000, "lease lost");
              return "too late";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("lease.stolen");
    await eventually(async () => (await app.getRun(runId))?.ownerId === "thief", 3000);
    await sleep(100);
    expect(await app.runtime.store.readStep(runId, "slow")).toBeUndefined();
    const run = (await app.getRun(runId))!;
    expect(run.status).toBe("running");
    expect(run.ownerId).toBe("thief");
  });

  test("a step interrupted by a hard worker shutdown is not checkpointed and the run lease is given back", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "lease.shutdown",
          run: async (script) =>
            script.step("slow", async () => {
              await gate;
              return "finished late";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("lease.shutdown");
    await eventually(async () => (await app.getRun(runId))?.currentStep === "slow", 3000);
    await app.worker.shutdown("hard");
    release();
    await eventually(
      async () => (await app.getRun(runId))?.ownerId === null,
      3000,
      "lease released",
    );
    expect(await app.runtime.store.readStep(runId, "slow")).toBeUndefined();
    expect((await app.getRun(runId))!.status).toBe("running");
  });

  test("one sweeper acts at a time; another takes over when it stops", async () => {
    const clock = new FakeClock(START);
    const locks = new MemoryLockStore(clock);
    const { app } = await workflowApp();
    const make = () =>
      new WorkflowRuntime({ store: app.runtime.store, stem: new FakeStem(), clock });
    const first = new WorkflowSweeper(make(), { lockStore: locks, pollInterval: "1s" });
    const second = new WorkflowSweeper(make(), { lockStore: locks, pollInterval: "1s" });
    expect(await first.tick()).toBe(true);
    expect(await second.tick()).toBe(false);
    expect(await first.tick()).toBe(true);
    await first.stop();
    expect(await second.tick()).toBe(true);
    expect(await first.tick()).toBe(false);
  });

  test("a sweeper that stops renewing loses the lock after its ttl", async () => {
    const clock = new FakeClock(START);
    const locks = new MemoryLockStore(clock);
    const { app } = await workflowApp();
    const make = () =>
      new WorkflowRuntime({ store: app.runtime.store, stem: new FakeStem(), clock });
    const first = new WorkflowSweeper(make(), { lockStore: locks, pollInterval: "1s" });
    const second = new WorkflowSweeper(make(), { lockStore: locks, pollInterval: "1s" });
    expect(await first.tick()).toBe(true);
    await clock.advance(4_000);
    expect(await second.tick()).toBe(false);
    await clock.advance(1_001);
    expect(await second.tick()).toBe(true);
    expect(await first.tick()).toBe(false);
  });

  test("a stale task for a suspended run does nothing", async () => {
    const counts: Record<string, number> = {};
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "lease.stale",
          run: async (script) =>
            script.step("wait", async (step) => {
              counts.wait = (counts.wait ?? 0) + 1;
              return (await step.awaitEvent("x")) ?? null;
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("lease.stale");
    await reachStatus(app, runId, "suspended");
    expect(await app.runtime.executeRun(runId)).toBe("not-runnable");
    expect(await app.runtime.executeRun("missing-run")).toBe("missing");
    expect(counts.wait).toBe(1);
  });
});
