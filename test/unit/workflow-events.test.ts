/** Awaited events: durable watchers, exactly-once delivery, timeouts and continuation queues. */
import { describe, expect, test } from "bun:test";
import {
  FakeStem,
  WorkflowEventTimeoutError,
  WorkflowMetaKeys,
  WorkflowRuntime,
  WorkflowScript,
  WORKFLOW_RUN_TASK,
} from "../../src/index.ts";
import { reachStatus, START, workflowApp } from "./workflow-test-app.ts";

/** A script whose step waits for `topic` and returns the payload it was resumed with. */
function waiter(name: string, topic: string, counter?: { runs: number }) {
  return WorkflowScript({
    name,
    run: async (script) => {
      await script.step("before", () => "ready");
      return script.step("wait", async (step) => {
        if (counter) counter.runs++;
        const payload = step.takeResumeData();
        if (payload === undefined) {
          await step.awaitEvent(topic);
          return null;
        }
        return { got: payload };
      });
    },
  });
}

describe("workflow events", () => {
  test("awaitEvent suspends the run as a listed watcher; emit resumes it once with the payload", async () => {
    const counter = { runs: 0 };
    const { app } = await workflowApp({ scripts: [waiter("events.one", "orders.paid", counter)] });
    const runId = await app.startWorkflow("events.one");
    const suspended = await reachStatus(app, runId, "suspended");
    expect(suspended.waitTopic).toBe("orders.paid");
    expect(await app.runtime.store.runsWaitingOn("orders.paid")).toEqual([runId]);
    const watchers = await app.runtime.store.listWatchers("orders.paid");
    expect(watchers.map((w) => [w.runId, w.stepName, w.topic])).toEqual([
      [runId, "wait", "orders.paid"],
    ]);
    expect((await app.describeRun(runId)).watcher?.stepName).toBe("wait");

    expect(await app.emit("orders.paid", { amount: 10 })).toEqual([runId]);
    // A second event finds nobody waiting.
    expect(await app.emit("orders.paid", { amount: 99 })).toEqual([]);
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.result).toEqual({ got: { amount: 10 } });
    expect(counter.runs).toBe(2);
    expect(await app.runtime.store.listWatchers("orders.paid")).toEqual([]);
  });

  test("awaitEvent resolves the payload on the resumed path", async () => {
    const { app } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "events.direct",
          run: async (script) =>
            script.step("approval", async (step) => {
              const decision = await step.awaitEvent<{ approved: boolean }>("approvals");
              return decision === undefined ? null : decision.approved ? "approved" : "rejected";
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("events.direct");
    await reachStatus(app, runId, "suspended");
    await app.emit("approvals", { approved: true });
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe("approved");
  });

  test("an event emitted before anyone waits is kept: the next run to wait gets it at once, exactly once", async () => {
    const counter = { runs: 0 };
    const { app } = await workflowApp({ scripts: [waiter("events.late", "early.topic", counter)] });
    expect(await app.emit("early.topic", { early: true })).toEqual([]);
    const first = await app.startWorkflow("events.late");
    // It never suspends for long: the kept event resumes it as it starts waiting.
    expect((await app.waitForCompletion(first, { timeout: 3000 })).result).toEqual({
      got: { early: true },
    });
    expect(counter.runs).toBe(2);
    // The kept event is gone: a second run waits for an event of its own.
    const second = await app.startWorkflow("events.late");
    await reachStatus(app, second, "suspended");
    expect(await app.emit("early.topic", { second: true })).toEqual([second]);
    expect((await app.waitForCompletion(second, { timeout: 3000 })).result).toEqual({
      got: { second: true },
    });
  });

  test("an event kept past eventRetention is dropped", async () => {
    const { app, clock } = await workflowApp({
      scripts: [waiter("events.expired", "stale.topic")],
      workflow: { eventRetention: "1h" },
    });
    expect(await app.emit("stale.topic", { stale: true })).toEqual([]);
    await clock.advance(3_600_000);
    const runId = await app.startWorkflow("events.expired");
    await reachStatus(app, runId, "suspended");
    expect(await app.emit("stale.topic", { fresh: true })).toEqual([runId]);
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toEqual({
      got: { fresh: true },
    });
  });

  test("with eventRetention 0 an event nobody waits for is not kept", async () => {
    const { app } = await workflowApp({
      scripts: [waiter("events.unkept", "unkept.topic")],
      workflow: { eventRetention: 0 },
    });
    expect(await app.emit("unkept.topic", { lost: true })).toEqual([]);
    const runId = await app.startWorkflow("events.unkept");
    await reachStatus(app, runId, "suspended");
    expect(await app.emit("unkept.topic", { second: true })).toEqual([runId]);
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toEqual({
      got: { second: true },
    });
  });

  test("every run waiting on a topic is resumed, each exactly once", async () => {
    const counter = { runs: 0 };
    const { app } = await workflowApp({ scripts: [waiter("events.many", "fanout", counter)] });
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => app.startWorkflow("events.many")),
    );
    for (const id of ids) await reachStatus(app, id, "suspended");
    expect(new Set(await app.runtime.store.runsWaitingOn("fanout"))).toEqual(new Set(ids));
    const resumed = await app.emit("fanout", "go");
    expect(new Set(resumed)).toEqual(new Set(ids));
    for (const id of ids)
      expect((await app.waitForCompletion(id, { timeout: 3000 })).result).toEqual({ got: "go" });
    expect(counter.runs).toBe(10);
  });

  test("concurrent emits from two runtimes resume each waiting run exactly once", async () => {
    const counter = { runs: 0 };
    const { app } = await workflowApp({ scripts: [waiter("events.race", "race", counter)] });
    const ids = await Promise.all(
      Array.from({ length: 4 }, () => app.startWorkflow("events.race")),
    );
    for (const id of ids) await reachStatus(app, id, "suspended");
    const other = new WorkflowRuntime({
      store: app.runtime.store,
      stem: app.stem,
      queue: app.runtime.queue,
    });
    const [a, b] = await Promise.all([app.emit("race", "from-a"), other.emit("race", "from-b")]);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    for (const id of ids) await app.waitForCompletion(id, { timeout: 3000 });
    expect(counter.runs).toBe(8);
  });

  test("a timed-out wait resumes the run and awaitEvent throws WorkflowEventTimeoutError", async () => {
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "events.timeout",
          run: async (script) =>
            script.step("approval", async (step) => {
              try {
                const decision = await step.awaitEvent("slow.approvals", { timeout: "1h" });
                return decision === undefined ? null : "approved";
              } catch (error) {
                if (error instanceof WorkflowEventTimeoutError)
                  return `timed out on ${error.topic}`;
                throw error;
              }
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("events.timeout");
    const suspended = await reachStatus(app, runId, "suspended");
    expect(suspended.resumeAt).toBe(START + 3_600_000);
    expect((await app.runtime.store.listWatchers("slow.approvals"))[0].deadline).toBe(
      START + 3_600_000,
    );
    await clock.advance(3_600_000);
    expect(await app.sweep()).toEqual([runId]);
    // The wait is over: a late event no longer reaches the run.
    expect(await app.emit("slow.approvals", { late: true })).toEqual([]);
    expect((await app.waitForCompletion(runId, { timeout: 3000 })).result).toBe(
      "timed out on slow.approvals",
    );
  });

  test("an unhandled wait timeout fails the run without retrying", async () => {
    let calls = 0;
    const { app, clock } = await workflowApp({
      scripts: [
        WorkflowScript({
          name: "events.timeout-unhandled",
          run: async (script) =>
            script.step("approval", async (step) => {
              calls++;
              return (await step.awaitEvent("never", { timeout: "5m" })) ?? null;
            }),
        }),
      ],
    });
    const runId = await app.startWorkflow("events.timeout-unhandled");
    await reachStatus(app, runId, "suspended");
    await clock.advance(300_000);
    await app.sweep();
    const run = await app.waitForCompletion(runId, { timeout: 3000 });
    expect(run.status).toBe("failed");
    expect(String(run.lastError?.error)).toContain('no event on "never"');
    expect(calls).toBe(2);
  });

  test("a run resumed by another runtime's emit continues on the queue it was started with", async () => {
    const { app } = await workflowApp({
      workflow: { queue: "orchestration-a" },
      scripts: [waiter("events.queues", "queue.topic")],
    });
    const runId = await app.startWorkflow("events.queues");
    await reachStatus(app, runId, "suspended");
    const recorder = new FakeStem();
    const other = new WorkflowRuntime({
      store: app.runtime.store,
      stem: recorder,
      queue: "orchestration-b",
    });
    expect(await other.emit("queue.topic", { v: 1 })).toEqual([runId]);
    expect(recorder.enqueues.length).toBe(1);
    const [task] = recorder.enqueues;
    expect(task.name).toBe(WORKFLOW_RUN_TASK);
    expect(task.args).toEqual({ runId, reason: "event" });
    expect(task.options.queue).toBe("orchestration-a");
    expect(task.options.meta).toMatchObject({
      [WorkflowMetaKeys.orchestrationQueue]: "orchestration-a",
      [WorkflowMetaKeys.continuationQueue]: "orchestration-a",
      [WorkflowMetaKeys.continuationReason]: "event",
    });
  });
});
