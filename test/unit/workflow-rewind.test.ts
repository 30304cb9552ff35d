/** Rewinding a run to a named step and re-executing from there. */
import { describe, expect, test } from "bun:test";
import { Flow, WorkflowScript } from "../../src/index.ts";
import { reachStatus, workflowApp } from "./workflow-test-app.ts";

describe("workflow rewind", () => {
  test("rewinding a completed Flow re-executes the step and everything after it, not what came before", async () => {
    const runs: string[] = [];
    let version = 1;
    const { app } = await workflowApp({
      flows: [
        Flow({
          name: "rewind.flow",
          build(flow) {
            flow.step("a", () => {
              runs.push("a");
              return "a";
            });
            flow.step("b", () => {
              runs.push("b");
              return `b${version}`;
            });
            flow.step("c", (step) => {
              runs.push("c");
              return `${step.previousResult}+c`;
            });
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("rewind.flow");
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("b1+c");
    version = 2;
    await app.rewind(runId, "b");
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.status).toBe("completed");
    expect(run.result).toBe("b2+c");
    expect(runs).toEqual(["a", "b", "c", "b", "c"]);
    expect((await app.describeRun(runId)).steps.map((s) => [s.name, s.value])).toEqual([
      ["a", "a"],
      ["b", "b2"],
      ["c", "b2+c"],
    ]);
  });

  test("rewinding to an autoVersion step resets its iterations", async () => {
    const iterations: number[] = [];
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "rewind.versioned",
          run: async (script) => {
            await script.step("setup", () => "ready");
            let last = 0;
            for (let i = 0; i < 3; i++) {
              last = await script.step(
                "repeat",
                (step) => {
                  iterations.push(step.iteration);
                  return step.iteration * 10;
                },
                { autoVersion: true },
              );
            }
            return script.step("tail", () => last + 1);
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("rewind.versioned");
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(21);
    await app.rewind(runId, "repeat");
    const rewound = (await app.getRun(runId))!;
    expect(["running", "completed"]).toContain(rewound.status);
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(21);
    expect(iterations).toEqual([0, 1, 2, 0, 1, 2]);
    expect((await app.describeRun(runId)).steps.map((s) => s.name)).toEqual([
      "setup",
      "repeat#0",
      "repeat#1",
      "repeat#2",
      "tail",
    ]);
  });

  test("a Flow's autoVersion step checkpoints as step#0 and starts again from iteration 0 when rewound", async () => {
    const items = ["apple", "pear"];
    const seen: number[] = [];
    const { app } = await workflowApp({
      flows: [
        Flow({
          name: "rewind.flow-versioned",
          build(flow) {
            flow.step(
              "process-item",
              (step) => {
                seen.push(step.iteration);
                return items[step.iteration];
              },
              { autoVersion: true },
            );
            flow.step("done", (step) => `processed ${step.previousResult}`);
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("rewind.flow-versioned");
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("processed apple");
    await app.rewind(runId, "process-item");
    await app.waitForCompletion(runId, { timeout: 3000 });
    expect(seen).toEqual([0, 0]);
    expect((await app.describeRun(runId)).steps.map((s) => s.name)).toEqual([
      "process-item#0",
      "done",
    ]);
  });

  test("rewinding a cancelled run revives it; rewinding to a step without a checkpoint is not_found", async () => {
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "rewind.revive",
          run: async (script) => {
            await script.step("first", () => 1);
            return script.step("gate", async (step) => (await step.awaitEvent("open")) ?? null);
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("rewind.revive");
    await reachStatus(app, runId, "suspended");
    await app.cancel(runId, "oops");
    await expect(app.rewind(runId, "gate")).rejects.toThrow('no checkpoint for step "gate"');
    await app.rewind(runId, "first");
    const waiting = await reachStatus(app, runId, "suspended");
    expect(waiting.cancellationData).toBeNull();
    await app.emit("open", "opened");
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("opened");
  });

  test("rewind is refused while a worker executes the run", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "rewind.busy",
          run: async (script) => {
            await script.step("one", () => 1);
            return script.step("two", async () => {
              await gate;
              return 2;
            });
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("rewind.busy");
    await reachStatus(app, runId, "running");
    const runningOn = await (async () => {
      for (;;) {
        const run = await app.getRun(runId);
        if (run?.ownerId) return run.ownerId;
        await Bun.sleep(5);
      }
    })();
    await expect(app.rewind(runId, "one")).rejects.toThrow(`executing on ${runningOn}`);
    release();
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(2);
  });
});
