/**
 * Seed 003's durable workflow semantics, on an in-memory app with a fake clock: one test
 * (or more) per point.
 */
import { describe, expect, test } from "bun:test";
import { Flow, WorkflowScript, signals } from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { reachStatus, START, workflowApp } from "./workflow-test-app.ts";

describe("workflow runs", () => {
  test("a Flow runs its steps in order, each seeing the previous result, and completes with the last one", async () => {
    const seen: unknown[] = [];
    const { app } = await workflowApp({
      flows: [
        Flow({
          name: "demo.workflow",
          build(flow) {
            flow.step("hello", (step) => {
              seen.push(step.previousResult);
              return "hello";
            });
            flow.step("world", (step) => {
              seen.push(step.previousResult);
              return `${step.previousResult} world`;
            });
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("demo.workflow");
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.status).toBe("completed");
    expect(run.result).toBe("hello world");
    expect(seen).toEqual([undefined, "hello"]);
    const detail = await app.describeRun(runId);
    expect(detail.steps.map((s) => [s.name, s.value])).toEqual([
      ["hello", "hello"],
      ["world", "hello world"],
    ]);
    expect(detail.run.cursor).toBe(2);
  });

  test("script steps checkpoint each value; previousResult, stepIndex and params reach the handler", async () => {
    const indexes: number[] = [];
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript<{ userId: string }>({
          name: "script.sequence",
          run: async (script) => {
            const a = await script.step("load", (step) => {
              indexes.push(step.stepIndex);
              return { user: step.params.userId };
            });
            const b = await script.step("greet", (step) => {
              indexes.push(step.stepIndex);
              return `hi ${(step.previousResult as { user: string }).user}`;
            });
            return { a, b };
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("script.sequence", { params: { userId: "42" } });
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toEqual({ a: { user: "42" }, b: "hi 42" });
    expect(indexes).toEqual([0, 1]);
    expect((await app.describeRun(runId)).steps.map((s) => s.value)).toEqual([
      { user: "42" },
      "hi 42",
    ]);
  });

  test("steps replay from the top after a suspension: completed steps never run again, the suspended one does", async () => {
    const runs = { first: 0, waiting: 0, last: 0 };
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.replay",
          run: async (script) => {
            await script.step("first", () => {
              runs.first++;
              return "one";
            });
            await script.step("waiting", async (step) => {
              runs.waiting++;
              if (step.takeResumeData() !== true) {
                await step.sleep("1m");
                return null;
              }
              return "two";
            });
            return script.step("last", () => {
              runs.last++;
              return "three";
            });
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("script.replay");
    await reachStatus(app, runId, "suspended");
    expect(runs).toEqual({ first: 1, waiting: 1, last: 0 });
    await clock.advance(60_000);
    expect(await app.sweep()).toEqual([runId]);
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("three");
    expect(runs).toEqual({ first: 1, waiting: 2, last: 1 });
  });

  test("sleep persists its wake time; the run is due only once it has come; takeResumeData gives true", async () => {
    const resumes: unknown[] = [];
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.sleep",
          run: async (script) =>
            script.step("nap", async (step) => {
              const resume = step.takeResumeData();
              resumes.push(resume);
              if (resume !== true) {
                await step.sleep(30);
                return null;
              }
              return "rested";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.sleep");
    const suspended = await reachStatus(app, runId, "suspended");
    expect(suspended.resumeAt).toBe(START + 30);
    expect(suspended.suspensionData).toMatchObject({
      type: "sleep",
      step: "nap",
      resumeAt: START + 30,
      suspendedAt: START,
    });
    await clock.advance(20);
    expect(await app.sweep()).toEqual([]);
    await clock.advance(20);
    expect(await app.sweep()).toEqual([runId]);
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("rested");
    expect(resumes).toEqual([undefined, true]);
  });

  test("the worker's sweeper resumes due runs on its own", async () => {
    const { app, clock } = await workflowApp({
      workflow: { pollInterval: "500ms" },
      scripts: [
        WorkflowScript({
          name: "script.swept",
          run: async (script) =>
            script.step("nap", async (step) => {
              if (step.takeResumeData() === undefined) {
                await step.sleep("2s");
                return null;
              }
              return "woke";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.swept");
    await reachStatus(app, runId, "suspended");
    for (let i = 0; i < 6; i++) await clock.advance(500);
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("woke");
  });

  test("a resumed step that calls sleep again after its wake time does not suspend again", async () => {
    let calls = 0;
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.unguarded",
          run: async (script) =>
            script.step("wait", async (step) => {
              calls++;
              // No resume guard: the second call happens after the wake time and passes through.
              await step.sleep("10s");
              return "after sleep";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.unguarded");
    await reachStatus(app, runId, "suspended");
    await clock.advance(10_000);
    await app.sweep();
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("after sleep");
    expect(calls).toBe(2);
  });

  test("code after an awaited sleep runs only once the sleep is over", async () => {
    const trace: string[] = [];
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.after-sleep",
          run: async (script) =>
            script.step("wait-then-act", async (step) => {
              trace.push("before");
              await step.sleep("5s");
              trace.push("after");
              return "acted";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.after-sleep");
    await reachStatus(app, runId, "suspended");
    expect(trace).toEqual(["before"]);
    await clock.advance(5000);
    await app.sweep();
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("acted");
    expect(trace).toEqual(["before", "before", "after"]);
  });

  test("a suspension stands even when the handler forgets await or catches the interrupt", async () => {
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.careless",
          run: async (script) => {
            await script.step("no-await", (step) => {
              void step.sleep("1m");
              return "returned anyway";
            });
            return "never";
          },
        }),
        WorkflowScript({
          name: "script.catches",
          run: async (script) =>
            script.step("catch-all", async (step) => {
              try {
                await step.awaitEvent("some.topic");
              } catch {
                return "swallowed";
              }
              return "unreachable";
            }),
        }),
      ],
    });
    const careless = await app.startWorkflow("script.careless");
    const catches = await app.startWorkflow("script.catches");
    expect((await reachStatus(app, careless, "suspended")).suspensionData?.type).toBe("sleep");
    expect((await reachStatus(app, catches, "suspended")).waitTopic).toBe("some.topic");
    expect((await app.describeRun(careless)).steps).toEqual([]);
    expect((await app.describeRun(catches)).steps).toEqual([]);
  });

  test("a sleep-then-poll loop needs no guard: each wake-up passes its sleep once", async () => {
    let polls = 0;
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.sleep-then-poll",
          run: async (script) =>
            script.step("poll", async (step) => {
              await step.sleep("10s");
              polls++;
              if (polls < 3) await step.sleep("10s");
              return `ready after ${polls} polls`;
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.sleep-then-poll");
    for (let i = 1; i <= 3; i++) {
      await eventually(
        async () => polls === i - 1 && (await app.getRun(runId))?.status === "suspended",
      );
      await clock.advance(10_000);
      expect(await app.sweep()).toEqual([runId]);
    }
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(
      "ready after 3 polls",
    );
  });

  test("sleep data is what takeResumeData returns on the wake-up path, once", async () => {
    const taken: unknown[] = [];
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.marker",
          run: async (script) =>
            script.step("marked", async (step) => {
              const resume = step.takeResumeData<{ marker: string }>();
              taken.push(resume, step.takeResumeData());
              if (resume?.marker !== "woke") {
                await step.sleep(200, { data: { marker: "woke" } });
                return null;
              }
              return resume.marker;
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.marker");
    await reachStatus(app, runId, "suspended");
    await clock.advance(200);
    await app.sweep();
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("woke");
    expect(taken).toEqual([undefined, undefined, { marker: "woke" }, undefined]);
  });

  test("a step returning null or undefined is not checkpointed and runs again on resume", async () => {
    let probes = 0;
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.nulls",
          run: async (script) => {
            const probe = await script.step("probe", () => {
              probes++;
              return null;
            });
            await script.step("pause", async (step) => {
              if (step.takeResumeData() === undefined) {
                await step.sleep(5);
                return null;
              }
              return "paused";
            });
            return { probe };
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("script.nulls");
    await reachStatus(app, runId, "suspended");
    expect((await app.describeRun(runId)).steps).toEqual([]);
    await clock.advance(5);
    await app.sweep();
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toEqual({ probe: null });
    expect(probes).toBe(2);
    expect((await app.describeRun(runId)).steps.map((s) => s.name)).toEqual(["pause"]);
  });

  test("idempotencyKey is workflow/run/step, with the iteration for repeats and a custom scope", async () => {
    const keys: string[] = [];
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.keys",
          run: async (script) => {
            await script.step("charge", (step) => {
              keys.push(step.idempotencyKey(), step.idempotencyKey("payment"));
              return true;
            });
            for (let i = 0; i < 2; i++) {
              await script.step(
                "poll",
                (step) => {
                  keys.push(step.idempotencyKey());
                  return i;
                },
                { autoVersion: true },
              );
            }
            return keys.length;
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("script.keys");
    await app.waitForCompletion(runId, { timeout: 3000 });
    expect(keys).toEqual([
      `script.keys/${runId}/charge`,
      `script.keys/${runId}/payment`,
      `script.keys/${runId}/poll`,
      `script.keys/${runId}/poll#1`,
    ]);
  });

  test("an autoVersion step called in a loop checkpoints step#0, step#1, ... with its iteration", async () => {
    const iterations: number[] = [];
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.repeat",
          run: async (script) => {
            let total = 0;
            for (let i = 0; i < 3; i++) {
              total = await script.step(
                "repeat",
                (step) => {
                  iterations.push(step.iteration);
                  return step.iteration + 1;
                },
                { autoVersion: true },
              );
            }
            return total;
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("script.repeat");
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe(3);
    expect(iterations).toEqual([0, 1, 2]);
    const detail = await app.describeRun(runId);
    expect(detail.steps.map((s) => s.name)).toEqual(["repeat#0", "repeat#1", "repeat#2"]);
    expect(detail.run.cursor).toBe(1);
  });

  test("the poll-shipment loop: a guarded autoVersion step sleeps again until the shipment is ready", async () => {
    let polls = 0;
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "orders.poll",
          run: async (script) => {
            const checkout = await script.step("checkout", () => ({ id: "order-1" }));
            return script.step(
              "poll-shipment",
              async (step) => {
                if (step.takeResumeData() !== true) {
                  await step.sleep("30s");
                  return "waiting";
                }
                polls++;
                if (polls < 3) {
                  await step.sleep("30s");
                  return "waiting";
                }
                return `shipped ${checkout.id}`;
              },
              { autoVersion: true },
            );
          },
        }),
      ],
    });
    const runId = await app.startWorkflow("orders.poll");
    for (let wake = 1; wake <= 3; wake++) {
      await reachStatus(app, runId, "suspended");
      expect(await app.sweep()).toEqual([]);
      await clock.advance(30_000);
      expect(await app.sweep()).toEqual([runId]);
      if (wake < 3)
        await eventually(
          () => polls === wake && app.getRun(runId).then((r) => r?.status === "suspended"),
        );
    }
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toBe("shipped order-1");
    expect(polls).toBe(3);
    expect((await app.describeRun(runId)).steps.map((s) => [s.name, s.value])).toEqual([
      ["checkout", { id: "order-1" }],
      ["poll-shipment#0", "shipped order-1"],
    ]);
  });

  test("a failing step is retried, then fails the run with its error", async () => {
    let attempts = 0;
    const failed: string[] = [];
    const off = signals.workflowRunFailed.connect((p) => {
      failed.push(`${p.runId}:${p.step}:${p.metadata?.error}`);
    });
    try {
      const { app } = await workflowApp({
        workflow: { maxRetries: 2 },
        scripts: [
          WorkflowScript({
            name: "script.fails",
            run: async (script) => {
              await script.step("ok", () => "fine");
              return script.step("boom", () => {
                attempts++;
                throw new Error(`boom ${attempts}`);
              });
            },
          }),
        ],
      });
      const runId = await app.startWorkflow("script.fails");
      const run = await app.waitForCompletion(runId, { timeout: 5000 });
      expect(run.status).toBe("failed");
      expect(attempts).toBe(3);
      expect(run.lastError).toMatchObject({ error: "boom 3", terminal: true });
      expect(failed).toEqual([`${runId}:boom:boom 3`]);
    } finally {
      off();
    }
  });

  test("a step that fails once and then succeeds completes the run", async () => {
    let attempts = 0;
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "script.flaky",
          run: async (script) =>
            script.step("flaky", () => {
              attempts++;
              if (attempts === 1) throw new Error("transient");
              return "recovered";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("script.flaky");
    const run = await app.waitForCompletion(runId, { timeout: 5000 });
    expect(run.result).toBe("recovered");
    expect(run.lastError).toMatchObject({ error: "transient", terminal: false });
  });

  test("signals report started, step completed, suspended, resumed and completed", async () => {
    const events: string[] = [];
    const names = [
      "workflowRunStarted",
      "workflowStepCompleted",
      "workflowRunSuspended",
      "workflowRunResumed",
      "workflowRunCompleted",
    ] as const;
    const offs = names.map((name) =>
      signals[name].connect((p) => void events.push(`${name}:${p.step ?? ""}`)),
    );
    try {
      const { app, clock } = await workflowApp({
        scripts: [
          WorkflowScript({
            name: "script.signals",
            run: async (script) => {
              await script.step("a", () => 1);
              return script.step("b", async (step) => {
                if (step.takeResumeData() === undefined) {
                  await step.sleep(10);
                  return null;
                }
                return 2;
              });
            },
          }),
        ],
      });
      const runId = await app.startWorkflow("script.signals");
      await reachStatus(app, runId, "suspended");
      await clock.advance(10);
      await app.sweep();
      await app.waitForCompletion(runId, { timeout: 3000 });
      await sleep(20);
      expect(events).toEqual([
        "workflowRunStarted:",
        "workflowStepCompleted:a",
        "workflowRunSuspended:b",
        "workflowRunResumed:b",
        "workflowStepCompleted:b",
        "workflowRunCompleted:",
      ]);
    } finally {
      for (const off of offs) off();
    }
  });

  test("a run of a workflow this worker does not know fails with a clear error", async () => {
    const { app } = await workflowApp({
      flows: [Flow({ name: "known", build: (f) => void f.step("s", () => 1) })],
    });
    const runId = await app.runtime.store.createRun({ workflow: "mystery" });
    await app.runtime.enqueueRun(runId, "default", "start");
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.status).toBe("failed");
    expect(String(run.lastError?.error)).toContain('unknown workflow "mystery"');
  });

  test("startWorkflow refuses unknown names and reserved params", async () => {
    const { app } = await workflowApp({
      flows: [Flow({ name: "known", build: (f) => void f.step("s", () => 1) })],
    });
    await expect(app.startWorkflow("nope")).rejects.toThrow(
      'unknown workflow "nope" (registered: known)',
    );
    await expect(
      app.startWorkflow("known", { params: { "__stem.workflow.runtime": {} } }),
    ).rejects.toThrow("reserved");
  });
});
