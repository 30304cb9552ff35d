/**
 * The WorkflowStore contract for exactly-once continuations: claims with fencing tokens
 * and fenced writes, events kept for runs that wait later, and pruning of finished runs;
 * then the same behaviours through a WorkflowRuntime on the store under test (executing
 * runs directly; the tasks it enqueues are recorded by a FakeStem, not delivered).
 */
import { describe, expect, test } from "bun:test";
import type { WorkflowStore } from "../adapters/contracts.ts";
import { WorkflowFenceError } from "../core/errors.ts";
import { WorkflowScript } from "../workflow/definition.ts";
import { WorkflowRuntime } from "../workflow/runtime.ts";
import { FakeClock } from "./fake-clock.ts";
import { FakeStem } from "./fake-stem.ts";
import { type ContractSubject, eventually } from "./harness.ts";
import {
  freshWorkflowStore,
  type WorkflowStoreContractFactory,
} from "./workflow-store-contract.ts";

const DAY = 86_400_000;

/** Expects `write` to be refused as a stale claim's write. */
async function expectFenced(write: Promise<unknown>): Promise<void> {
  const error = await write.then(
    () => new Error("the stale write was accepted"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFenceError);
  expect((error as WorkflowFenceError).code).toBe("conflict");
}

export function workflowFencingContract(name: string, factory: WorkflowStoreContractFactory): void {
  describe(`WorkflowStore claims, kept events and pruning: ${name}`, () => {
    let ctx: ContractSubject<WorkflowStore>;
    let store: WorkflowStore;
    let clock: FakeClock;
    freshWorkflowStore(factory, (opened) => {
      ({ ctx, store, clock } = opened);
    });

    const create = () => store.createRun({ workflow: "contract.fencing" });

    test("each new claim gets the next fencing token; a repeat by the holder keeps its own", async () => {
      const id = await create();
      expect(await store.claimRun(id, "execution-1", 5000)).toBe(1);
      // A retried claim (its reply lost) by the same execution is not a second claim.
      expect(await store.claimRun(id, "execution-1", 5000)).toBe(1);
      expect(await store.claimRun(id, "execution-2", 5000)).toBeNull();
      await clock.advance(5000);
      expect(await store.claimRun(id, "execution-2", 5000)).toBe(2);
      const run = (await store.get(id))!;
      expect(run.fencingToken).toBe(2);
      expect(run.ownerId).toBe("execution-2");
      await store.releaseRun(id, "execution-2", { fence: 2 });
      expect(await store.claimRun(id, "execution-3", 5000)).toBe(3);
    });

    test("a stale execution's checkpoint, suspension and completion are refused and change nothing", async () => {
      const id = await create();
      const stale = (await store.claimRun(id, "paused", 5000))!;
      await store.saveStep(id, "one", "from the paused execution", { fence: stale });
      // The paused execution's lease runs out and another execution claims the run.
      await clock.advance(6000);
      const current = (await store.claimRun(id, "current", 5000))!;
      expect(current).toBe(stale + 1);
      await store.saveStep(id, "two", "current", { fence: current });
      const before = await store.get(id);

      await expectFenced(store.saveStep(id, "two", "stale", { fence: stale }));
      await expectFenced(store.saveStep(id, "three", "stale", { fence: stale }));
      await expectFenced(store.markRunning(id, { stepName: "stale", fence: stale }));
      await expectFenced(store.suspendUntil(id, "nap", clock.now() + 1000, {}, { fence: stale }));
      await expectFenced(store.suspendOnTopic(id, "wait", "fenced.topic", { fence: stale }));
      await expectFenced(store.markCompleted(id, "stale result", { fence: stale }));
      await expectFenced(
        store.markFailed(id, { message: "stale" }, { terminal: true, fence: stale }),
      );
      expect(await store.renewRunLease(id, "paused", 5000, { fence: stale })).toBe(false);
      await store.releaseRun(id, "current", { fence: stale });

      expect(await store.get(id)).toEqual(before);
      expect(await store.readStep(id, "two")).toBe("current");
      expect(await store.readStep(id, "three")).toBeUndefined();
      expect(await store.listWatchers("fenced.topic")).toEqual([]);

      // The current claim writes as usual.
      expect(await store.renewRunLease(id, "current", 5000, { fence: current })).toBe(true);
      await store.markCompleted(id, "done", { fence: current });
      expect((await store.get(id))!.result).toBe("done");
    });

    test("an event kept by resolveWatchers resumes the next run to wait on its topic, and only that one", async () => {
      const [a, b] = [await create(), await create()];
      expect(await store.resolveWatchers("kept.topic", { n: 1 }, { retainFor: 60_000 })).toEqual(
        [],
      );
      await clock.advance(10);
      const resolution = await store.suspendOnTopic(a, "wait", "kept.topic", {
        data: { note: "a" },
      });
      expect(resolution).toEqual({
        runId: a,
        stepName: "wait",
        topic: "kept.topic",
        resumeData: {
          note: "a",
          payload: { n: 1 },
          topic: "kept.topic",
          deliveredAt: clock.now(),
        },
      });
      const resumed = (await store.get(a))!;
      expect(resumed.status).toBe("running");
      expect(resumed.waitTopic).toBeNull();
      expect(resumed.currentStep).toBe("wait");
      expect(resumed.suspensionData?.payload).toEqual({ n: 1 });
      expect(await store.listWatchers("kept.topic")).toEqual([]);

      // Taken: the next run to wait waits for an event of its own.
      expect(await store.suspendOnTopic(b, "wait", "kept.topic")).toBeNull();
      expect((await store.get(b))!.status).toBe("suspended");
      expect(await store.runsWaitingOn("kept.topic")).toEqual([b]);
      expect((await store.resolveWatchers("kept.topic", 2)).map((r) => r.runId)).toEqual([b]);
    });

    test("kept events are taken oldest first, one per wait, until their time runs out", async () => {
      const ids = [await create(), await create(), await create(), await create()];
      await store.resolveWatchers("fifo", "first", { retainFor: 1000 });
      await clock.advance(500);
      await store.resolveWatchers("fifo", "second", { retainFor: 1000 });
      await store.resolveWatchers("other.topic", "elsewhere", { retainFor: 1000 });
      expect((await store.suspendOnTopic(ids[0], "w", "fifo"))?.resumeData.payload).toBe("first");
      await clock.advance(600);
      expect((await store.suspendOnTopic(ids[1], "w", "fifo"))?.resumeData.payload).toBe("second");
      await store.resolveWatchers("fifo", "third", { retainFor: 1000 });
      await clock.advance(1000);
      expect(await store.suspendOnTopic(ids[2], "w", "fifo")).toBeNull();
      // An event without retainFor, or one that resumed a run, is not kept.
      await store.resolveWatchers("fifo.unkept", "lost");
      expect(await store.suspendOnTopic(ids[3], "w", "fifo.unkept")).toBeNull();
      expect((await store.resolveWatchers("fifo.unkept", "x", { retainFor: 1000 })).length).toBe(1);
      const late = await create();
      expect(await store.suspendOnTopic(late, "w", "fifo.unkept")).toBeNull();
    });

    test("emits racing suspensions on one topic: no run resumed twice, and every event resumes runs at once or is kept for exactly one", async () => {
      const other = await ctx.peer();
      const runs = await Promise.all(Array.from({ length: 12 }, () => create()));
      const resumedRuns: string[] = [];
      const keptDeliveries: unknown[] = [];
      const unheard: number[] = [];
      await Promise.all([
        ...runs.map(async (id, i) => {
          const r = await (i % 2 ? other : store).suspendOnTopic(id, "w", "race.kept");
          if (!r) return;
          resumedRuns.push(id);
          keptDeliveries.push(r.resumeData.payload);
        }),
        ...runs.map(async (_, i) => {
          const s = i % 2 ? store : other;
          const live = await s.resolveWatchers("race.kept", i, { retainFor: 60_000 });
          if (live.length === 0) unheard.push(i);
          resumedRuns.push(...live.map((r) => r.runId));
        }),
      ]);
      // Events still kept go to runs that wait now.
      for (;;) {
        const r = await store.suspendOnTopic(await create(), "w", "race.kept");
        if (!r) break;
        keptDeliveries.push(r.resumeData.payload);
      }
      expect(new Set(resumedRuns).size).toBe(resumedRuns.length);
      const sorted = (xs: unknown[]) => xs.map(Number).sort((x, y) => x - y);
      expect(sorted(keptDeliveries)).toEqual(sorted(unheard));
    });

    test("pruneRuns deletes only finished runs last updated before the cutoff, with their checkpoints", async () => {
      const done = await create();
      await store.saveStep(done, "a", 1);
      await store.markCompleted(done, "ok");
      const failed = await create();
      await store.markFailed(failed, { message: "boom" }, { terminal: true });
      const cancelled = await create();
      await store.cancel(cancelled, "bye");
      const running = await create();
      await store.saveStep(running, "a", 1);
      const suspended = await create();
      await store.suspendUntil(suspended, "nap", clock.now() + 30 * DAY);
      await clock.advance(8 * DAY);
      const recent = await create();
      await store.markCompleted(recent, "new");
      const cutoff = clock.now() - 7 * DAY;

      expect(await store.pruneRuns(cutoff, { dryRun: true })).toBe(3);
      expect(await store.get(done)).not.toBeNull();
      expect(await store.pruneRuns(cutoff, { limit: 2 })).toBe(2);
      expect(await store.pruneRuns(cutoff)).toBe(1);
      expect(await store.pruneRuns(cutoff)).toBe(0);
      for (const id of [done, failed, cancelled]) expect(await store.get(id)).toBeNull();
      expect(await store.listSteps(done)).toEqual([]);
      expect(await store.readStep(done, "a")).toBeUndefined();
      expect((await store.listRuns({ limit: 100 })).map((r) => r.id).sort()).toEqual(
        [running, suspended, recent].sort(),
      );
      expect(await store.readStep(running, "a")).toBe(1);
      expect((await store.listRuns({ status: "completed" })).map((r) => r.id)).toEqual([recent]);
      // A pruned id is free again.
      await store.createRun({ workflow: "again", runId: done });
      expect((await store.get(done))!.workflow).toBe("again");
    });
  });

  describe(`Workflow runtime claims, kept events and pruning: ${name}`, () => {
    let store: WorkflowStore;
    let clock: FakeClock;
    freshWorkflowStore(factory, (opened) => {
      ({ store, clock } = opened);
    });

    /** A one-step workflow whose step the test releases; counts calls and overlap. */
    function gated(workflow: string) {
      const state = { calls: 0, active: 0, maxActive: 0, gates: [] as (() => void)[] };
      const script = WorkflowScript({
        name: workflow,
        run: async (s) =>
          s.step("work", async () => {
            const call = ++state.calls;
            state.active++;
            state.maxActive = Math.max(state.maxActive, state.active);
            await new Promise<void>((release) => state.gates.push(release));
            state.active--;
            return `call ${call}`;
          }),
      });
      return { script, state };
    }

    test("two deliveries of one run on one runtime never run a step at once", async () => {
      const { script, state } = gated("contract.twice");
      const rt = new WorkflowRuntime({ store, stem: new FakeStem(), clock, workflows: [script] });
      const runId = await rt.startWorkflow("contract.twice");
      const first = rt.executeRun(runId);
      await eventually(() => state.calls === 1, 5000, "the first execution in its step");
      expect(await rt.executeRun(runId)).toBe("busy");
      state.gates[0]();
      expect(await first).toBe("completed");
      expect(state.maxActive).toBe(1);
      expect(state.calls).toBe(1);
      const run = (await store.get(runId))!;
      expect(run.result).toBe("call 1");
      expect(run.ownerId).toBeNull();
    });

    test("an execution paused past its lease cannot checkpoint or complete the run another one took over", async () => {
      const { script, state } = gated("contract.stale");
      const rt = new WorkflowRuntime({
        store,
        stem: new FakeStem(),
        clock,
        workflows: [script],
        runLease: "30s",
      });
      const runId = await rt.startWorkflow("contract.stale");
      const paused = rt.executeRun(runId);
      await eventually(() => state.calls === 1, 5000, "the first execution in its step");
      // The first execution stalls (a GC pause, a blocked loop) past its lease.
      await clock.advance(31_000);
      const takeover = rt.executeRun(runId);
      await eventually(() => state.calls === 2, 5000, "the second execution in its step");
      state.gates[1]();
      expect(await takeover).toBe("completed");
      state.gates[0]();
      expect(await paused).toBe("lease-lost");
      const run = (await store.get(runId))!;
      expect(run.status).toBe("completed");
      expect(run.result).toBe("call 2");
      expect(await store.readStep(runId, "work")).toBe("call 2");
      expect(run.fencingToken).toBe(2);
    });

    test("a run that starts waiting after the emit receives the kept event at once, exactly once", async () => {
      let waits = 0;
      const waiter = WorkflowScript({
        name: "contract.kept",
        run: async (s) =>
          s.step("wait", async (step) => {
            waits++;
            return (await step.awaitEvent<{ id: string }>("contract.kept.topic")) ?? null;
          }),
      });
      const rt = new WorkflowRuntime({ store, stem: new FakeStem(), clock, workflows: [waiter] });
      expect(await rt.emit("contract.kept.topic", { id: "early" })).toEqual([]);
      const first = await rt.startWorkflow("contract.kept");
      // Suspends, finds the kept event, and replays the step with it in the same execution.
      expect(await rt.executeRun(first)).toBe("completed");
      expect((await store.get(first))!.result).toEqual({ id: "early" });
      expect(waits).toBe(2);
      const second = await rt.startWorkflow("contract.kept");
      expect(await rt.executeRun(second)).toBe("suspended");
      expect(await rt.emit("contract.kept.topic", { id: "late" })).toEqual([second]);
      expect(await rt.executeRun(second)).toBe("completed");
      expect((await store.get(second))!.result).toEqual({ id: "late" });
    });

    test("the sweep prunes finished runs older than runRetention; pruneRuns does it on demand", async () => {
      const quick = WorkflowScript({ name: "contract.quick", run: async () => "done" });
      const rt = new WorkflowRuntime({
        store,
        stem: new FakeStem(),
        clock,
        workflows: [quick],
        runRetention: "2d",
      });
      const old = await rt.startWorkflow("contract.quick");
      expect(await rt.executeRun(old)).toBe("completed");
      const waiting = await store.createRun({ workflow: "contract.quick" });
      await clock.advance(3 * DAY);
      const fresh = await rt.startWorkflow("contract.quick");
      expect(await rt.executeRun(fresh)).toBe("completed");
      expect(await rt.pruneRuns("1d", { dryRun: true })).toBe(1);
      await rt.sweep();
      expect(await store.get(old)).toBeNull();
      expect(await store.get(waiting)).not.toBeNull();
      expect(await store.get(fresh)).not.toBeNull();
      await clock.advance(1);
      expect(await rt.pruneRuns(0)).toBe(1);
      expect(await store.get(fresh)).toBeNull();
    });
  });
}
