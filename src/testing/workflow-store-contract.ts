import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WorkflowStore } from "../adapters/contracts.ts";
import { StemError } from "../core/errors.ts";
import { type AnyWorkflowDefinition, WorkflowScript } from "../workflow/definition.ts";
import { WORKFLOW_RUN_TASK, WorkflowMetaKeys } from "../workflow/run-task.ts";
import { WorkflowRuntime } from "../workflow/runtime.ts";
import {
  RUNTIME_METADATA_KEY,
  runtimeMetadataOf,
  workflowParams,
} from "../workflow/run-metadata.ts";
import { FakeClock } from "./fake-clock.ts";
import { FakeStem } from "./fake-stem.ts";
import type { ContractSubject } from "./harness.ts";

/** Opens a fresh, isolated workflow store that takes its time from `clock`. */
export interface WorkflowStoreContractFactory {
  create(clock: FakeClock): Promise<ContractSubject<WorkflowStore>>;
}

/** The contract start time: 2024-01-01T00:00:00Z. */
export const WORKFLOW_CONTRACT_START = Date.UTC(2024, 0, 1);

/**
 * Before each test of the enclosing describe: a new fake clock at WORKFLOW_CONTRACT_START and
 * a store on it, handed to `use`; cleaned up after the test.
 */
export function freshWorkflowStore(
  factory: WorkflowStoreContractFactory,
  use: (opened: {
    ctx: ContractSubject<WorkflowStore>;
    store: WorkflowStore;
    clock: FakeClock;
  }) => void,
): void {
  let ctx: ContractSubject<WorkflowStore> | undefined;
  beforeEach(async () => {
    const clock = new FakeClock(WORKFLOW_CONTRACT_START);
    ctx = await factory.create(clock);
    use({ ctx, store: ctx.subject, clock });
  });
  afterEach(async () => {
    await ctx?.cleanup();
  });
}

/**
 * The WorkflowStore contract every adapter must pass (a port of Stem-Dart's workflow
 * store suite). The store must take timestamps, leases and due times from the clock.
 */
export function workflowStoreContract(name: string, factory: WorkflowStoreContractFactory): void {
  describe(`WorkflowStore contract: ${name}`, () => {
    let ctx: ContractSubject<WorkflowStore>;
    let store: WorkflowStore;
    let clock: FakeClock;
    freshWorkflowStore(factory, (opened) => {
      ({ ctx, store, clock } = opened);
    });

    const create = (workflow = "contract.workflow", params: Record<string, unknown> = {}) =>
      store.createRun({ workflow, params });

    test("createRun stores the workflow and params, with status running and cursor 0", async () => {
      const id = await create("contract.workflow", { user: 1 });
      const run = await store.get(id);
      expect(run).not.toBeNull();
      expect(run!.workflow).toBe("contract.workflow");
      expect(run!.status).toBe("running");
      expect(run!.cursor).toBe(0);
      expect(run!.params.user).toBe(1);
      expect(run!.createdAt).toBe(WORKFLOW_CONTRACT_START);
      expect(await store.get("no-such-run")).toBeNull();
    });

    test("createRun honours a caller-supplied run id", async () => {
      const id = await store.createRun({ workflow: "contract.workflow", runId: "contract-run-1" });
      expect(id).toBe("contract-run-1");
      expect((await store.get("contract-run-1"))!.workflow).toBe("contract.workflow");
    });

    test("a duplicate caller-supplied run id throws and leaves the original run unchanged", async () => {
      await store.createRun({ workflow: "contract.original", runId: "dup-run", params: { a: 1 } });
      await store.saveStep("dup-run", "step-a", "kept");
      const error = await store
        .createRun({ workflow: "contract.other", runId: "dup-run", params: { b: 2 } })
        .catch((e) => e);
      expect(error).toBeInstanceOf(StemError);
      expect((error as StemError).code).toBe("conflict");
      const run = await store.get("dup-run");
      expect(run!.workflow).toBe("contract.original");
      expect(run!.params).toEqual({ a: 1 });
      expect(await store.readStep("dup-run", "step-a")).toBe("kept");
    });

    test("runtime metadata in params is persisted as-is; workflowParams strips it and the getters decode it", async () => {
      const metadata = { orchestrationQueue: "workflow", continuationQueue: "continue" };
      const id = await create("contract.workflow", {
        user: "u1",
        [RUNTIME_METADATA_KEY]: metadata,
      });
      const run = (await store.get(id))!;
      expect(run.params[RUNTIME_METADATA_KEY]).toEqual(metadata);
      expect(workflowParams(run)).toEqual({ user: "u1" });
      expect(runtimeMetadataOf(run)).toEqual(metadata);
    });

    test("saveStep and readStep round-trip values; rewindToStep clears that step and later ones", async () => {
      const id = await create();
      await store.saveStep(id, "step-a", { value: 1 });
      await store.saveStep(id, "step-b", 2);
      await store.saveStep(id, "step-c", "done");
      expect(await store.readStep(id, "step-a")).toEqual({ value: 1 });
      expect(await store.readStep(id, "step-b")).toBe(2);
      expect(await store.readStep(id, "step-c")).toBe("done");
      expect(await store.readStep(id, "step-z")).toBeUndefined();
      expect((await store.get(id))!.cursor).toBe(3);

      await store.rewindToStep(id, "step-b");
      expect(await store.readStep(id, "step-b")).toBeUndefined();
      expect(await store.readStep(id, "step-c")).toBeUndefined();
      expect(await store.readStep(id, "step-a")).toEqual({ value: 1 });
      expect((await store.get(id))!.cursor).toBe(1);
    });

    test("rewinding to a step without a checkpoint is a not_found error", async () => {
      const id = await create();
      await store.saveStep(id, "step-a", 1);
      const error = await store.rewindToStep(id, "nowhere").catch((e) => e);
      expect((error as StemError).code).toBe("not_found");
      expect(await store.readStep(id, "step-a")).toBe(1);
    });

    test("saveStep bumps updatedAt", async () => {
      const id = await create();
      const before = (await store.get(id))!.updatedAt;
      await clock.advance(2);
      await store.saveStep(id, "heartbeat", true);
      expect((await store.get(id))!.updatedAt).toBe(before + 2);
    });

    test("versioned checkpoints count as one step, and rewinding clears every iteration", async () => {
      const id = await create();
      await store.saveStep(id, "repeat#0", "first");
      await store.saveStep(id, "repeat#1", "second");
      await store.saveStep(id, "tail", "done");
      expect((await store.get(id))!.cursor).toBe(2);
      expect(await store.readStep(id, "repeat#0")).toBe("first");
      expect(await store.readStep(id, "repeat#1")).toBe("second");

      await store.rewindToStep(id, "repeat");
      for (const name of ["repeat#0", "repeat#1", "tail"])
        expect(await store.readStep(id, name)).toBeUndefined();
      const run = (await store.get(id))!;
      expect(run.cursor).toBe(0);
      expect(run.status).toBe("suspended");
      expect(run.suspensionData).toEqual({ step: "repeat", iteration: 0, iterationStep: "repeat" });
    });

    test("listRuns reports the same logical cursor", async () => {
      const id = await create();
      await store.saveStep(id, "repeat#0", "first");
      await store.saveStep(id, "repeat#1", "second");
      await store.saveStep(id, "tail", "done");
      const listed = (await store.listRuns({ workflow: "contract.workflow", limit: 5 })).find(
        (r) => r.id === id,
      )!;
      expect(listed.cursor).toBe(2);

      await store.rewindToStep(id, "repeat");
      const after = (await store.listRuns({ workflow: "contract.workflow", limit: 5 })).find(
        (r) => r.id === id,
      )!;
      expect(after.cursor).toBe(0);
      expect(after.status).toBe("suspended");
      expect(after.suspensionData?.iteration).toBe(0);
    });

    test("suspendUntil makes the run due once; markResumed sets it running again", async () => {
      const id = await create();
      const resumeAt = clock.now() - 1000;
      await store.suspendUntil(id, "step-a", resumeAt, { reason: "delay" });
      const suspended = (await store.get(id))!;
      expect(suspended.status).toBe("suspended");
      expect(suspended.resumeAt).toBe(resumeAt);
      expect(suspended.suspensionData?.resumeAt).toBe(resumeAt);
      expect(suspended.suspensionData?.reason).toBe("delay");

      expect(await store.dueRuns(clock.now())).toContain(id);
      // The selection is consumed: a second sweep does not take it again.
      expect(await store.dueRuns(clock.now())).toEqual([]);

      await store.markResumed(id);
      const resumed = (await store.get(id))!;
      expect(resumed.status).toBe("running");
      expect(resumed.waitTopic).toBeNull();
      expect(resumed.resumeAt).toBeNull();
    });

    test("a run not yet due is not returned, and becomes due when the clock reaches its time", async () => {
      const id = await create();
      await store.suspendUntil(id, "nap", clock.now() + 5000);
      expect(await store.dueRuns(clock.now())).toEqual([]);
      await clock.advance(5000);
      expect(await store.dueRuns(clock.now())).toEqual([id]);
    });

    test("a due run taken but never resumed is offered again after the redelivery window", async () => {
      const id = await create();
      await store.suspendUntil(id, "nap", clock.now());
      expect(await store.dueRuns(clock.now())).toEqual([id]);
      await clock.advance(30_000);
      expect(await store.dueRuns(clock.now())).toEqual([]);
      await clock.advance(31_000);
      expect(await store.dueRuns(clock.now())).toEqual([id]);
    });

    test("run leases: claim, expiry, renewal and release", async () => {
      const id = await create();
      expect((await store.listRunnableRuns()).map((r) => r.id)).toContain(id);
      expect((await store.get(id))!.fencingToken).toBe(0);

      expect(await store.claimRun(id, "owner-a", 5000)).toBe(1);
      expect(await store.claimRun(id, "owner-b", 5000)).toBeNull();
      expect((await store.listRunnableRuns()).map((r) => r.id)).not.toContain(id);
      const claimed = (await store.get(id))!;
      expect(claimed.ownerId).toBe("owner-a");
      expect(claimed.leaseExpiresAt).toBe(clock.now() + 5000);

      await clock.advance(6000);
      expect((await store.listRunnableRuns()).map((r) => r.id)).toContain(id);
      expect(await store.claimRun(id, "owner-b", 5000)).toBe(2);
      expect((await store.get(id))!.fencingToken).toBe(2);

      expect(await store.renewRunLease(id, "owner-b", 5000)).toBe(true);
      expect(await store.renewRunLease(id, "owner-c", 5000)).toBe(false);

      await store.releaseRun(id, "owner-c");
      expect((await store.get(id))!.ownerId).toBe("owner-b");
      await store.releaseRun(id, "owner-b");
      expect((await store.listRunnableRuns()).map((r) => r.id)).toContain(id);
    });

    test("listRunnableRuns excludes suspended runs", async () => {
      const id = await create();
      await store.suspendUntil(id, "nap", clock.now() + 60_000);
      expect((await store.listRunnableRuns()).map((r) => r.id)).not.toContain(id);
    });

    test("dueRuns honours its limit and the next call returns the rest", async () => {
      const ids = [await create(), await create(), await create()];
      for (const id of ids) await store.suspendUntil(id, "nap", clock.now() - 10);
      const first = await store.dueRuns(clock.now(), 2);
      expect(first.length).toBe(2);
      const second = await store.dueRuns(clock.now(), 2);
      expect(second.length).toBe(1);
      expect(new Set([...first, ...second])).toEqual(new Set(ids));
    });

    test("suspendOnTopic lists the run as waiting; cancel clears the wait", async () => {
      const id = await create();
      await store.suspendOnTopic(id, "step-b", "user.updated", {
        deadline: clock.now() + 3_600_000,
        data: { topic: true },
      });
      const run = (await store.get(id))!;
      expect(run.status).toBe("suspended");
      expect(run.waitTopic).toBe("user.updated");
      expect(await store.runsWaitingOn("user.updated")).toContain(id);

      expect(await store.cancel(id)).toBe(true);
      const cancelled = (await store.get(id))!;
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.waitTopic).toBeNull();
      expect(await store.runsWaitingOn("user.updated")).toEqual([]);
      expect(await store.listWatchers("user.updated")).toEqual([]);
      expect(await store.cancel(id)).toBe(false);
    });

    test("several runs waiting on one topic are all listed, and none once each is resumed", async () => {
      const ids = [await create(), await create(), await create()];
      for (const id of ids) await store.suspendOnTopic(id, "wait", "shared.topic");
      expect(new Set(await store.runsWaitingOn("shared.topic"))).toEqual(new Set(ids));
      for (const id of ids) await store.markResumed(id, { payload: { id } });
      expect(await store.runsWaitingOn("shared.topic")).toEqual([]);
      for (const id of ids) {
        const run = (await store.get(id))!;
        expect(run.status).toBe("running");
        expect(run.suspensionData?.payload).toEqual({ id });
        expect(run.waitTopic).toBeNull();
      }
    });

    test("a watcher: resolveWatchers delivers the payload exactly once", async () => {
      const id = await create();
      await store.suspendOnTopic(id, "event-step", "contract.topic", {
        data: { step: "event-step", iteration: 0, iterationStep: "event-step" },
      });
      expect(await store.runsWaitingOn("contract.topic")).toContain(id);
      const watchers = await store.listWatchers("contract.topic");
      expect(watchers.map((w) => [w.runId, w.stepName])).toEqual([[id, "event-step"]]);

      await clock.advance(10);
      const resolutions = await store.resolveWatchers("contract.topic", { value: 42 });
      expect(resolutions.length).toBe(1);
      const [resolution] = resolutions;
      expect(resolution.runId).toBe(id);
      expect(resolution.stepName).toBe("event-step");
      expect(resolution.topic).toBe("contract.topic");
      expect(resolution.resumeData).toMatchObject({
        payload: { value: 42 },
        topic: "contract.topic",
        deliveredAt: clock.now(),
        step: "event-step",
      });

      expect(await store.listWatchers("contract.topic")).toEqual([]);
      expect(await store.runsWaitingOn("contract.topic")).toEqual([]);
      expect(await store.resolveWatchers("contract.topic", { value: 43 })).toEqual([]);
      const run = (await store.get(id))!;
      expect(run.status).toBe("running");
      expect(run.suspensionData?.payload).toEqual({ value: 42 });
    });

    test("concurrent resolveWatchers from two instances resume each waiting run exactly once", async () => {
      const ids = await Promise.all(Array.from({ length: 10 }, () => create()));
      for (const id of ids) await store.suspendOnTopic(id, "wait", "race.topic");
      const other = await ctx.peer();
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other : store).resolveWatchers("race.topic", { n: i }, { limit: 3 }),
        ),
      );
      const resolved = results.flat().map((r) => r.runId);
      expect(resolved.length).toBe(ids.length);
      expect(new Set(resolved)).toEqual(new Set(ids));
    });

    test("listWatchers exposes run, step, topic, data and deadline", async () => {
      const id = await create();
      const deadline = clock.now() + 300_000;
      await store.suspendOnTopic(id, "inspect-step", "contract.inspect", {
        deadline,
        data: { note: "contract-test" },
      });
      const watchers = await store.listWatchers("contract.inspect");
      expect(watchers.length).toBe(1);
      const [watcher] = watchers;
      expect(watcher.runId).toBe(id);
      expect(watcher.stepName).toBe("inspect-step");
      expect(watcher.topic).toBe("contract.inspect");
      expect(watcher.data.note).toBe("contract-test");
      expect(watcher.deadline).not.toBeNull();
      expect(Math.abs(watcher.deadline! - deadline)).toBeLessThan(5000);
    });

    test("a watcher with a deadline makes the run due then, and a due run can no longer be resolved", async () => {
      const id = await create();
      await store.suspendOnTopic(id, "wait", "late.topic", { deadline: clock.now() + 1000 });
      expect(await store.dueRuns(clock.now())).toEqual([]);
      await clock.advance(1000);
      expect(await store.dueRuns(clock.now())).toEqual([id]);
      expect(await store.resolveWatchers("late.topic", { late: true })).toEqual([]);
    });

    test("markCompleted stores the result and leaves suspensionData an empty object", async () => {
      const id = await create();
      await store.markCompleted(id, { output: "ok" });
      const run = (await store.get(id))!;
      expect(run.status).toBe("completed");
      expect(run.result).toEqual({ output: "ok" });
      expect(run.suspensionData).toEqual({});
    });

    test("a finished run is not changed by later status updates", async () => {
      const id = await create();
      await store.markCompleted(id, "done");
      await store.markRunning(id, { stepName: "late" });
      await store.markFailed(id, { message: "late failure" }, { terminal: true });
      await store.suspendUntil(id, "late", clock.now());
      const run = (await store.get(id))!;
      expect(run.status).toBe("completed");
      expect(run.result).toBe("done");
      expect(await store.claimRun(id, "owner", 1000)).toBeNull();
    });

    test("markFailed records the error; non-terminal keeps the run running, terminal fails it", async () => {
      const id = await create();
      await store.markFailed(id, { message: "contract failure", type: "StateError" });
      const retrying = (await store.get(id))!;
      expect(retrying.status).toBe("running");
      expect(String(retrying.lastError?.error)).toContain("contract failure");

      await store.markFailed(id, { message: "boom" }, { terminal: true });
      const failed = (await store.get(id))!;
      expect(failed.status).toBe("failed");
      expect(failed.lastError?.error).toBe("boom");
    });

    test("listRuns filters by workflow and status", async () => {
      const first = await create("contract.a");
      await clock.advance(1);
      const second = await create("contract.b");
      await store.markCompleted(first, null);
      const all = (await store.listRuns({ limit: 10 })).map((r) => r.id);
      expect(all).toEqual(expect.arrayContaining([first, second]));
      // Newest first.
      expect(all.indexOf(second)).toBeLessThan(all.indexOf(first));
      const onlyA = await store.listRuns({ workflow: "contract.a", limit: 10 });
      expect(onlyA.map((r) => [r.workflow, r.status])).toEqual([["contract.a", "completed"]]);
      expect((await store.listRuns({ status: "completed", limit: 10 })).map((r) => r.id)).toContain(
        first,
      );
      expect(
        (await store.listRuns({ status: "running", limit: 10 })).map((r) => r.id),
      ).not.toContain(first);
      expect((await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.id)).toEqual([first]);
    });

    test("listSteps returns checkpoints in insertion order with their values", async () => {
      const id = await create();
      await store.saveStep(id, "step-a", 1);
      await store.saveStep(id, "step-b", 2);
      await store.saveStep(id, "step-c", 3);
      const steps = await store.listSteps(id);
      expect(steps.map((s) => s.name)).toEqual(["step-a", "step-b", "step-c"]);
      expect(steps.map((s) => s.value)).toEqual([1, 2, 3]);
      expect(steps.map((s) => s.completedAt)).toEqual([clock.now(), clock.now(), clock.now()]);
    });

    test("listSteps keeps versioned checkpoints in order", async () => {
      const id = await create();
      await store.saveStep(id, "repeat#0", "first");
      await store.saveStep(id, "repeat#1", "second");
      await store.saveStep(id, "tail", "done");
      expect((await store.listSteps(id)).map((s) => s.name)).toEqual([
        "repeat#0",
        "repeat#1",
        "tail",
      ]);
    });

    test("createRun persists the cancellation policy", async () => {
      const policy = { maxRunDuration: 300_000, maxSuspendDuration: 60_000 };
      const id = await store.createRun({ workflow: "policy.workflow", cancellationPolicy: policy });
      const run = (await store.get(id))!;
      expect(run.cancellationPolicy).toEqual(policy);
      expect(run.createdAt).toBe(clock.now());
    });

    test("cancel records the reason", async () => {
      const id = await create("cancel.workflow");
      await store.cancel(id, "maxRunDuration", { limitMs: 1000 });
      const run = (await store.get(id))!;
      expect(run.status).toBe("cancelled");
      expect(run.cancellationData).toMatchObject({
        reason: "maxRunDuration",
        limitMs: 1000,
        cancelledAt: clock.now(),
      });
    });

    test("changes to an unknown run are not_found errors", async () => {
      for (const attempt of [
        () => store.saveStep("ghost", "a", 1),
        () => store.markRunning("ghost"),
        () => store.suspendUntil("ghost", "a", 0),
        () => store.claimRun("ghost", "o", 1000),
        () => store.cancel("ghost"),
      ]) {
        const error = await attempt().catch((e) => e);
        expect((error as StemError).code).toBe("not_found");
      }
    });

    test("a second instance on the same store sees the same runs", async () => {
      const id = await create("contract.shared", { n: 1 });
      await store.saveStep(id, "a", "x");
      const other = await ctx.peer();
      expect((await other.get(id))!.params).toEqual({ n: 1 });
      expect(await other.readStep(id, "a")).toBe("x");
      expect(await store.claimRun(id, "one", 10_000)).toBe(1);
      expect(await other.claimRun(id, "two", 10_000)).toBeNull();
    });
  });
}

/**
 * The workflow script facade run against a store (a port of Stem-Dart's facade suite): a
 * real WorkflowRuntime on the store under test, with a fake clock, executing runs
 * directly; the `stem.workflow.run` tasks it enqueues are recorded, not delivered.
 */
export function workflowScriptFacadeContract(
  name: string,
  factory: WorkflowStoreContractFactory,
): void {
  describe(`Workflow script facade: ${name}`, () => {
    let ctx: ContractSubject<WorkflowStore>;
    let store: WorkflowStore;
    let clock: FakeClock;
    let enqueued: FakeStem;
    const runtime = (workflows: AnyWorkflowDefinition[], queue = "workflow") =>
      new WorkflowRuntime({ store, stem: enqueued, clock, workflows, queue });
    beforeEach(async () => {
      clock = new FakeClock(WORKFLOW_CONTRACT_START);
      ctx = await factory.create(clock);
      store = ctx.subject;
      enqueued = new FakeStem();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("sequential steps checkpoint each value and see the previous one; the result is persisted", async () => {
      const seen: unknown[] = [];
      const rt = runtime([
        WorkflowScript({
          name: "facade.sequence",
          run: async (script) => {
            const first = await script.step("first", () => "one");
            const second = await script.step("second", (step) => {
              seen.push(step.previousResult);
              return `${first}+two`;
            });
            return { second };
          },
        }),
      ]);
      const runId = await rt.startWorkflow("facade.sequence");
      expect(enqueued.enqueuesOf(WORKFLOW_RUN_TASK).map((e) => e.args)).toEqual([
        { runId, reason: "start" },
      ]);
      expect(await rt.executeRun(runId)).toBe("completed");
      const run = (await store.get(runId))!;
      expect(run.status).toBe("completed");
      expect(run.result).toEqual({ second: "one+two" });
      expect(seen).toEqual(["one"]);
      expect(await store.readStep(runId, "first")).toBe("one");
      expect(await store.readStep(runId, "second")).toBe("one+two");
    });

    test("sleep suspends with resumeAt; once due and resumed the run completes and takeResumeData is true", async () => {
      const resumes: unknown[] = [];
      const rt = runtime([
        WorkflowScript({
          name: "facade.sleep",
          run: async (script) =>
            script.step("nap", async (step) => {
              const resume = step.takeResumeData();
              resumes.push(resume);
              if (resume !== true) await step.sleep(30);
              return "rested";
            }),
        }),
      ]);
      const runId = await rt.startWorkflow("facade.sleep");
      expect(await rt.executeRun(runId)).toBe("suspended");
      const suspended = (await store.get(runId))!;
      expect(suspended.status).toBe("suspended");
      expect(suspended.resumeAt).toBe(WORKFLOW_CONTRACT_START + 30);
      await clock.advance(40);
      expect(await store.dueRuns(clock.now())).toEqual([runId]);
      await store.markResumed(runId, suspended.suspensionData ?? undefined);
      expect(await rt.executeRun(runId)).toBe("completed");
      expect((await store.get(runId))!.result).toBe("rested");
      expect(resumes).toEqual([undefined, true]);
    });

    test("an autoVersion step called three times checkpoints repeat#0..2 with iterations 0, 1, 2", async () => {
      const iterations: number[] = [];
      const rt = runtime([
        WorkflowScript({
          name: "facade.repeat",
          run: async (script) => {
            let last = 0;
            for (let i = 0; i < 3; i++) {
              last = await script.step(
                "repeat",
                (step) => {
                  iterations.push(step.iteration);
                  return step.iteration + 1;
                },
                { autoVersion: true },
              );
            }
            return last;
          },
        }),
      ]);
      const runId = await rt.startWorkflow("facade.repeat");
      expect(await rt.executeRun(runId)).toBe("completed");
      expect((await store.get(runId))!.result).toBe(3);
      expect(iterations).toEqual([0, 1, 2]);
      expect((await store.listSteps(runId)).map((s) => s.name)).toEqual([
        "repeat#0",
        "repeat#1",
        "repeat#2",
      ]);
    });

    test("awaitEvent suspends on the topic; emit resumes the run with the payload", async () => {
      const rt = runtime([
        WorkflowScript({
          name: "facade.event",
          run: async (script) =>
            script.step("wait", (step) => step.awaitEvent<{ value: number }>("facade.topic")),
        }),
      ]);
      const runId = await rt.startWorkflow("facade.event");
      expect(await rt.executeRun(runId)).toBe("suspended");
      expect((await store.get(runId))!.waitTopic).toBe("facade.topic");
      expect(await rt.emit("facade.topic", { value: 7 })).toEqual([runId]);
      expect(await rt.executeRun(runId)).toBe("completed");
      expect((await store.get(runId))!.result).toEqual({ value: 7 });
    });

    test("a run resumed by another runtime's emit is continued on the queue of the runtime that started it", async () => {
      const script = WorkflowScript({
        name: "facade.queues",
        run: async (s) => s.step("wait", (step) => step.awaitEvent("facade.queues.topic")),
      });
      const a = runtime([script], "queue-a");
      const b = runtime([script], "queue-b");
      const runId = await a.startWorkflow("facade.queues");
      expect(await a.executeRun(runId)).toBe("suspended");
      await b.emit("facade.queues.topic", { ok: true });
      const continuation = enqueued.enqueuesOf(WORKFLOW_RUN_TASK).at(-1)!;
      expect(continuation.options.queue).toBe("queue-a");
      expect(continuation.options.meta).toMatchObject({
        [WorkflowMetaKeys.orchestrationQueue]: "queue-a",
        [WorkflowMetaKeys.continuationQueue]: "queue-a",
        [WorkflowMetaKeys.continuationReason]: "event",
      });
    });

    test("a sweep cancels a run past its suspend limit and records the reason", async () => {
      const rt = runtime([
        WorkflowScript({
          name: "facade.policy",
          run: async (script) => script.step("nap", (step) => step.sleep("1h")),
        }),
      ]);
      const runId = await rt.startWorkflow("facade.policy", {
        cancellationPolicy: { maxSuspendDuration: "1m" },
      });
      expect(await rt.executeRun(runId)).toBe("suspended");
      expect((await store.get(runId))!.resumeAt).toBe(WORKFLOW_CONTRACT_START + 60_000);
      await clock.advance(60_000);
      expect(await rt.sweep()).toEqual([]);
      const run = (await store.get(runId))!;
      expect(run.status).toBe("cancelled");
      expect(run.cancellationData?.reason).toBe("maxSuspendDuration");
    });
  });
}
