/**
 * One execution of a run at a time, under faults: two deliveries of a run on one worker,
 * and claims or releases whose replies are lost.
 */
import { describe, expect, test } from "bun:test";
import { MemoryWorkflowStore } from "../../src/adapters/memory/workflow-store.ts";
import { FakeStem, WorkflowRuntime, WorkflowScript } from "../../src/index.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";
import { START, workflowApp } from "./workflow-test-app.ts";

/** A one-step workflow whose step waits for `release`; counts calls and overlap. */
function gated(name: string) {
  const state = { calls: 0, active: 0, maxActive: 0 };
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const script = WorkflowScript({
    name,
    run: async (s) =>
      s.step("work", async () => {
        state.calls++;
        state.active++;
        state.maxActive = Math.max(state.maxActive, state.active);
        await gate;
        state.active--;
        return "worked";
      }),
  });
  return { script, state, release };
}

describe("one execution of a run at a time", () => {
  test("a second stem.workflow.run delivery on the same worker finds the run busy and defers itself", async () => {
    const { script, state, release } = gated("fence.twice");
    const { app } = await workflowApp({ scripts: [script] });
    const runId = await app.startWorkflow("fence.twice");
    await eventually(() => state.calls === 1, 3000, "the step to start");
    // A redelivery (or the sweeper, or a deferred task) while the first still executes.
    await app.runtime.enqueueRun(runId, app.runtime.queue, "manual");
    await eventually(
      async () => (await app.stem.broker.stats([app.runtime.queue]))[0]?.delayed === 1,
      3000,
      "the second delivery deferred",
    );
    expect(state.calls).toBe(1);
    release();
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("worked");
    expect(state.maxActive).toBe(1);
    expect(state.calls).toBe(1);
  });

  test("a claim whose reply is lost leaves the run busy until that lease runs out, then it runs once", async () => {
    const clock = new FakeClock(START);
    const faulty = injectFaults(new MemoryWorkflowStore(clock), {
      method: "claimRun",
      when: "after",
    });
    let calls = 0;
    const once = WorkflowScript({
      name: "fence.lost-claim",
      run: async (s) => s.step("work", () => ++calls),
    });
    const rt = new WorkflowRuntime({
      store: faulty.store,
      stem: new FakeStem(),
      clock,
      workflows: [once],
      runLease: "30s",
    });
    const runId = await rt.startWorkflow("fence.lost-claim");
    // The claim was applied, but the execution never learnt it: the task fails and retries.
    await expect(rt.executeRun(runId)).rejects.toThrow("injected fault: claimRun call 1");
    expect(await rt.executeRun(runId)).toBe("busy");
    expect(calls).toBe(0);
    await clock.advance(30_000);
    expect(await rt.executeRun(runId)).toBe("completed");
    expect(calls).toBe(1);
    expect((await faulty.store.get(runId))!.fencingToken).toBe(2);
  });

  test("a release that fails keeps the next execution out only until the lease runs out", async () => {
    const clock = new FakeClock(START);
    const faulty = injectFaults(new MemoryWorkflowStore(clock), { method: "releaseRun" });
    const napper = WorkflowScript({
      name: "fence.lost-release",
      run: async (s) => {
        await s.step("nap", async (step) => {
          if (step.takeResumeData() === undefined) await step.sleep("1s");
          return "rested";
        });
        return "done";
      },
    });
    const rt = new WorkflowRuntime({
      store: faulty.store,
      stem: new FakeStem(),
      clock,
      workflows: [napper],
      runLease: "30s",
    });
    const runId = await rt.startWorkflow("fence.lost-release");
    expect(await rt.executeRun(runId)).toBe("suspended");
    expect(faulty.injected()).toBe(1);
    await clock.advance(1000);
    expect(await rt.sweep()).toEqual([runId]);
    expect(await rt.executeRun(runId)).toBe("busy");
    await clock.advance(29_000);
    expect(await rt.executeRun(runId)).toBe("completed");
  });
});
