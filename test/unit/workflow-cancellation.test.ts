/** Cancelling runs by hand and by WorkflowCancellationPolicy, with the reason recorded. */
import { describe, expect, test } from "bun:test";
import { StemError, WorkflowScript, signals } from "../../src/index.ts";
import { sleep } from "../../src/testing/harness.ts";
import { reachStatus, START, workflowApp } from "./workflow-test-app.ts";

const sleeper = (name: string, duration: string) =>
  WorkflowScript({
    name,
    run: async (script) =>
      script.step("nap", async (step) => {
        if (step.takeResumeData() === undefined) {
          await step.sleep(duration);
          return null;
        }
        return "woke";
      }),
  });

describe("workflow cancellation", () => {
  test("cancel records the reason; a cancelled run is not resumed by its wake time or an event", async () => {
    const cancelled: string[] = [];
    const off = signals.workflowRunCancelled.connect(
      (p) => void cancelled.push(`${p.runId}:${p.metadata?.reason}`),
    );
    try {
      const { app, clock } = await workflowApp({
        scripts: [
          sleeper("cancel.sleeper", "1m"),
          WorkflowScript({
            name: "cancel.waiter",
            run: async (script) =>
              script.step("wait", async (step) => (await step.awaitEvent("never.sent")) ?? null),
          }),
        ],
      });
      const sleeping = await app.startWorkflow("cancel.sleeper");
      const waiting = await app.startWorkflow("cancel.waiter");
      await reachStatus(app, sleeping, "suspended");
      await reachStatus(app, waiting, "suspended");
      expect(await app.cancel(sleeping, "customer asked")).toBe(true);
      expect(await app.cancel(waiting)).toBe(true);
      expect(await app.cancel(waiting)).toBe(false);
      await clock.advance(120_000);
      expect(await app.sweep()).toEqual([]);
      expect(await app.emit("never.sent", {})).toEqual([]);
      const run = (await app.getRun(sleeping))!;
      expect(run.status).toBe("cancelled");
      expect(run.cancellationData).toMatchObject({ reason: "customer asked", cancelledAt: START });
      expect((await app.getRun(waiting))!.cancellationData?.reason).toBe("cancelled");
      expect(cancelled).toEqual([`${sleeping}:customer asked`, `${waiting}:cancelled`]);
    } finally {
      off();
    }
  });

  test("a run cancelled while a step runs stops at the next step and stays cancelled", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let secondRan = false;
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "cancel.midway",
          run: async (script) => {
            await script.step("slow", async () => {
              await gate;
              return "slow done";
            });
            await script.step("second", () => {
              secondRan = true;
              return "second";
            });
            return "finished";
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("cancel.midway");
    await reachStatus(app, runId, "running");
    await sleep(30);
    expect(await app.cancel(runId, "stop")).toBe(true);
    release();
    await sleep(100);
    const run = (await app.getRun(runId))!;
    expect(run.status).toBe("cancelled");
    expect(run.result).toBeNull();
    expect(secondRan).toBe(false);
  });

  test("a run cancelled during its last step stays cancelled and is not reported completed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const completed: string[] = [];
    const off = signals.workflowRunCompleted.connect((p) => void completed.push(p.runId));
    try {
      const { app } = await workflowApp({
        scripts: [
          WorkflowScript({
            name: "cancel.last-step",
            run: async (script) =>
              script.step("only", async () => {
                await gate;
                return "done";
              }),
          }),
        ],
      });
      const runId = await app.startWorkflow("cancel.last-step");
      await reachStatus(app, runId, "running");
      await sleep(30);
      await app.cancel(runId, "too late");
      release();
      await sleep(100);
      expect((await app.getRun(runId))!.status).toBe("cancelled");
      expect(completed).not.toContain(runId);
    } finally {
      off();
    }
  });

  test("maxRunDuration clamps a long sleep and cancels the run when it is reached", async () => {
    const { app, clock } = await workflowApp({ scripts: [sleeper("policy.run", "10m")] });
    const runId = await app.startWorkflow("policy.run", {
      cancellationPolicy: { maxRunDuration: "5m" },
    });
    const suspended = await reachStatus(app, runId, "suspended");
    expect(suspended.cancellationPolicy).toEqual({ maxRunDuration: 300_000 });
    expect(suspended.resumeAt).toBe(START + 300_000);
    expect(suspended.suspensionData).toMatchObject({
      requestedResumeAt: START + 600_000,
      policyDeadlineApplied: true,
    });
    await clock.advance(300_000);
    expect(await app.sweep()).toEqual([]);
    const run = (await app.getRun(runId))!;
    expect(run.status).toBe("cancelled");
    expect(run.cancellationData).toMatchObject({
      reason: "maxRunDuration",
      limitMs: 300_000,
      elapsedMs: 300_000,
    });
  });

  test("maxSuspendDuration bounds an event wait without a timeout", async () => {
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "policy.suspend",
          run: async (script) =>
            script.step("wait", async (step) => (await step.awaitEvent("approval")) ?? null),
        }),
      ],
    });
    const runId = await app.startWorkflow("policy.suspend", {
      cancellationPolicy: { maxRunDuration: "1h", maxSuspendDuration: "1m" },
    });
    const suspended = await reachStatus(app, runId, "suspended");
    expect(suspended.resumeAt).toBe(START + 60_000);
    await clock.advance(60_000);
    await app.sweep();
    const run = (await app.getRun(runId))!;
    expect(run.status).toBe("cancelled");
    expect(run.cancellationData).toMatchObject({
      reason: "maxSuspendDuration",
      limitMs: 60_000,
      step: "wait",
    });
  });

  test("an event arriving after the suspend limit, before any sweep, cancels instead of resuming", async () => {
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "policy.late-event",
          run: async (script) =>
            script.step("wait", async (step) => (await step.awaitEvent("late")) ?? null),
        }),
      ],
    });
    const runId = await app.startWorkflow("policy.late-event", {
      cancellationPolicy: { maxSuspendDuration: "30s" },
    });
    await reachStatus(app, runId, "suspended");
    await clock.advance(45_000);
    expect(await app.emit("late", { too: "late" })).toEqual([]);
    expect((await app.getRun(runId))!.cancellationData?.reason).toBe("maxSuspendDuration");
  });

  test("a sleep shorter than the suspend limit resumes normally", async () => {
    const { app, clock } = await workflowApp({ scripts: [sleeper("policy.ok", "10s")] });
    const runId = await app.startWorkflow("policy.ok", {
      cancellationPolicy: { maxSuspendDuration: "1m" },
    });
    await reachStatus(app, runId, "suspended");
    await clock.advance(10_000);
    expect(await app.sweep()).toEqual([runId]);
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("woke");
  });

  test("maxRunDuration reached while running cancels the run before its next step", async () => {
    let laterRan = false;
    const { app, clock } = await workflowApp({
      // The run lease outlasts the fake two minutes, so the step keeps its claim.
      workflow: { runLease: "10m" },
      scripts: [
        WorkflowScript({
          name: "policy.running",
          run: async (script) => {
            await script.step("long", async () => {
              await clock.advance(120_000);
              return "long done";
            });
            return script.step("later", () => {
              laterRan = true;
              return "later";
            });
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("policy.running", {
      cancellationPolicy: { maxRunDuration: "1m" },
    });
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.status).toBe("cancelled");
    expect(run.cancellationData?.reason).toBe("maxRunDuration");
    expect(laterRan).toBe(false);
    expect((await app.describeRun(runId)).steps.map((s) => s.name)).toEqual(["long"]);
  });

  test("a policy with a bad duration is refused with the field named", async () => {
    const { app } = await workflowApp({ scripts: [sleeper("policy.bad", "1s")] });
    const error = await app
      .startWorkflow("policy.bad", { cancellationPolicy: { maxRunDuration: "soon" } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(StemError);
    expect((error as Error).message).toContain("cancellationPolicy.maxRunDuration");
  });
});
