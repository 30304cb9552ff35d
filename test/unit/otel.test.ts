import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { type DataPoint, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  buildEnvelope,
  defineTask,
  Headers,
  PayloadSigner,
  Signal,
  signals,
  StemClient,
  startTelemetry,
  type Telemetry,
  task,
} from "../../src/index.ts";
import type { AnyTaskHandler } from "../../src/core/task.ts";
import { liveWorkers } from "../../src/observability/instrumentation.ts";
import { recordWorkflowRuns } from "../../src/observability/metrics.ts";
import { eventually } from "../../src/testing/harness.ts";

/** A pull reader: metrics are read on demand with collect(). */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const reader = new TestReader();
let telemetry: Telemetry;
const opened: StemClient[] = [];

beforeAll(async () => {
  telemetry = await startTelemetry({
    serviceName: "stem-otel-test",
    spanProcessors: [new SimpleSpanProcessor(spans)],
    metricReaders: [reader],
  });
});

afterAll(async () => {
  for (const c of opened) await c.close();
  await telemetry.shutdown();
});

async function client(
  tasks: AnyTaskHandler[],
  worker: Parameters<StemClient["createWorker"]>[0] = {},
) {
  const c = await StemClient.inMemory({ tasks });
  opened.push(c);
  const w = c.createWorker({ concurrency: 4, ...worker });
  await w.start();
  return { client: c, worker: w };
}

/** Every data point of a metric, as collected now. */
async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) =>
    s.metrics
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints as DataPoint<unknown>[]),
  );
}

/** The value of a counter (or count of a histogram) for points matching `attrs`. */
async function total(name: string, attrs: Record<string, unknown>): Promise<number> {
  let sum = 0;
  for (const p of await points(name)) {
    if (!Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)) continue;
    const value = p.value as number | { count: number };
    sum += typeof value === "number" ? value : value.count;
  }
  return sum;
}

function spansOf(taskId: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((s) => s.attributes["stem.task.id"] === taskId);
}

function only(list: ReadableSpan[], name: string): ReadableSpan {
  const found = list.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0];
}

/** The one span `name` of a task, once exported (the span processor may export late). */
async function exported(taskId: string, name: string): Promise<ReadableSpan> {
  await eventually(() => spansOf(taskId).some((s) => s.name === name), 5000, `${name} span`);
  return only(spansOf(taskId), name);
}

function expectChild(child: ReadableSpan, parent: ReadableSpan): void {
  expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
  expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
}

describe("traces", () => {
  test("one trace crosses producer → worker → a child task enqueued by the handler", async () => {
    const child = defineTask({ name: "otel.child", run: () => "child done" });
    const parent = defineTask({ name: "otel.parent", run: (ctx) => ctx.enqueue("otel.child", {}) });
    const { client: c } = await client([parent, child]);
    const parentId = await c.enqueue("otel.parent", {}, { queue: "default" });
    const childId = (await c.waitForTask<string>(parentId, { timeout: "10s" })).value!;
    await c.waitForTask(childId, { timeout: "10s" });

    const enqueueParent = await exported(parentId, "stem.enqueue");
    const executeParent = await eventually(
      () => spansOf(parentId).find((s) => s.name === "stem.execute otel.parent"),
      5000,
      "parent execute span",
    );
    const enqueueChild = await exported(childId, "stem.enqueue");
    const executeChild = await eventually(
      () => spansOf(childId).find((s) => s.name === "stem.execute otel.child"),
      5000,
      "child execute span",
    );

    expect(enqueueParent.parentSpanContext).toBeUndefined();
    expect(enqueueParent.kind).toBe(SpanKind.PRODUCER);
    expect(executeParent.kind).toBe(SpanKind.CONSUMER);
    expectChild(executeParent, enqueueParent);
    expectChild(enqueueChild, executeParent);
    expectChild(executeChild, enqueueChild);

    expect(enqueueParent.attributes).toMatchObject({
      "stem.task.name": "otel.parent",
      "stem.task.id": parentId,
      "stem.queue": "default",
      "stem.task.attempt": 1,
    });
    expect(executeParent.attributes).toMatchObject({
      "stem.task.name": "otel.parent",
      "stem.task.id": parentId,
      "stem.queue": "default",
      "stem.task.attempt": 1,
      "stem.task.outcome": "succeeded",
    });
    expect(executeParent.status.code).toBe(SpanStatusCode.OK);
    expect(executeChild.attributes).toMatchObject({
      "stem.parent_task_id": parentId,
      "stem.root_task_id": parentId,
    });
    expect(executeParent.resource.attributes["service.name"]).toBe("stem-otel-test");
  });

  test("the traceparent header is the enqueue span's and is not inherited as-is by children", async () => {
    const seen: Record<string, string>[] = [];
    const child = defineTask({
      name: "otel.headers.child",
      run: (ctx) => void seen.push({ ...ctx.headers }),
    });
    const parent = defineTask({
      name: "otel.headers.parent",
      run: (ctx) => {
        seen.push({ ...ctx.headers });
        return ctx.enqueue("otel.headers.child", {});
      },
    });
    const { client: c } = await client([parent, child]);
    const parentId = await c.enqueue("otel.headers.parent", {});
    const childId = (await c.waitForTask<string>(parentId, { timeout: "10s" })).value!;
    await c.waitForTask(childId, { timeout: "10s" });
    const enqueueParent = await exported(parentId, "stem.enqueue");
    const enqueueChild = await exported(childId, "stem.enqueue");
    const { traceId, spanId } = enqueueParent.spanContext();
    expect(seen[0][Headers.traceparent]).toBe(`00-${traceId}-${spanId}-01`);
    expect(seen[1][Headers.traceparent]).toBe(
      `00-${traceId}-${enqueueChild.spanContext().spanId}-01`,
    );
  });

  test("a task chained from a settled hook (how canvases continue) joins the trace", async () => {
    const first = defineTask({ name: "otel.chain.first", run: () => 1 });
    const second = defineTask({ name: "otel.chain.second", run: () => 2 });
    let secondId = "";
    const c = await StemClient.inMemory({ tasks: [first, second] });
    opened.push(c);
    await c
      .createWorker({
        onSettled: [
          async (envelope) => {
            if (envelope.name === "otel.chain.first")
              secondId = await c.stem.enqueue("otel.chain.second", {});
          },
        ],
      })
      .start();
    const firstId = await c.enqueue("otel.chain.first", {});
    await c.waitForTask(firstId, { timeout: "10s" });
    await eventually(() => secondId !== "", 5000, "second step enqueued");
    await c.waitForTask(secondId, { timeout: "10s" });
    const executeFirst = await eventually(
      () => spansOf(firstId).find((s) => s.name.startsWith("stem.execute")),
      5000,
      "first execute span",
    );
    const enqueueSecond = await exported(secondId, "stem.enqueue");
    const executeSecond = await eventually(
      () => spansOf(secondId).find((s) => s.name.startsWith("stem.execute")),
      5000,
      "second execute span",
    );
    expectChild(enqueueSecond, executeFirst);
    expectChild(executeSecond, enqueueSecond);
  });

  test("every step of a canvas chain joins the trace of the step before it", async () => {
    const steps = ["otel.canvas.a", "otel.canvas.b", "otel.canvas.c"].map((name) =>
      defineTask({ name, run: (ctx) => `${ctx.previousResult ?? ""}${name.slice(-1)}` }),
    );
    const { client: c } = await client(steps);
    const handle = await c.canvas.chain(steps.map((t) => task(t.name)));
    expect(await handle.get({ timeout: "10s" })).toBe("abc");
    const executions = await eventually(
      () => {
        const found = spans
          .getFinishedSpans()
          .filter((s) => String(s.name).startsWith("stem.execute otel.canvas."));
        return found.length === 3 ? found : undefined;
      },
      5000,
      "three execute spans",
    );
    const byName = new Map(executions.map((s) => [String(s.attributes["stem.task.name"]), s]));
    const enqueueOf = (execute: ReadableSpan) =>
      only(spansOf(String(execute.attributes["stem.task.id"])), "stem.enqueue");
    const [a, b, cc] = ["otel.canvas.a", "otel.canvas.b", "otel.canvas.c"].map(
      (n) => byName.get(n)!,
    );
    expectChild(a, enqueueOf(a));
    expectChild(enqueueOf(b), a);
    expectChild(b, enqueueOf(b));
    expectChild(enqueueOf(cc), b);
    expectChild(cc, enqueueOf(cc));
  });

  test("a child enqueued from a handler thread links to the thread's task", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stem-otel-thread-"));
    try {
      const index = resolve(import.meta.dir, "../../src/index.ts");
      const module = join(dir, "tasks.ts");
      writeFileSync(
        module,
        `import { defineTask } from ${JSON.stringify(index)};
export const parent = defineTask({ name: "otel.thread.parent", run: (ctx) => ctx.enqueue("otel.thread.child", {}) });
export const child = defineTask({ name: "otel.thread.child", run: () => "from thread" });
`,
      );
      const tasks = await import(module);
      const { client: c } = await client([tasks.parent, tasks.child], {
        isolation: "thread",
        tasksModule: module,
      });
      const parentId = await c.enqueue("otel.thread.parent", {});
      const childId = (await c.waitForTask<string>(parentId, { timeout: "20s" })).value!;
      expect((await c.waitForTask(childId, { timeout: "20s" })).state).toBe("succeeded");
      const executeParent = await eventually(
        () => spansOf(parentId).find((s) => s.name.startsWith("stem.execute")),
        5000,
        "parent execute span",
      );
      expectChild(await exported(childId, "stem.enqueue"), executeParent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failing attempt is an error span with outcome retrying, then failed", async () => {
    const flaky = defineTask({
      name: "otel.fail",
      options: { maxRetries: 1, retryBackoff: { kind: "fixed", delay: "10ms" } },
      run: () => {
        throw new Error("card declined");
      },
    });
    const { client: c } = await client([flaky]);
    const id = await c.enqueue("otel.fail", {});
    expect((await c.waitForTask(id, { timeout: "10s" })).state).toBe("failed");
    const executions = await eventually(
      () => {
        const found = spansOf(id).filter((s) => s.name === "stem.execute otel.fail");
        return found.length === 2 ? found : undefined;
      },
      5000,
      "two execute spans",
    );
    executions.sort(
      (a, b) =>
        Number(a.attributes["stem.task.attempt"]) - Number(b.attributes["stem.task.attempt"]),
    );
    expect(executions.map((s) => s.attributes["stem.task.outcome"])).toEqual([
      "retrying",
      "failed",
    ]);
    expect(executions.map((s) => s.attributes["stem.task.attempt"])).toEqual([1, 2]);
    for (const s of executions) {
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: "card declined" });
    }
    expect(executions[1].events.map((e) => e.name)).toContain("exception");
  });
});

describe("metrics", () => {
  test("task counters and the duration histogram", async () => {
    const ok = defineTask({ name: "otel.metrics.ok", run: () => "ok" });
    const flaky = defineTask({
      name: "otel.metrics.flaky",
      options: { retryBackoff: { kind: "fixed", delay: "10ms" } },
      run: (ctx) => {
        if (ctx.attempt < 2) ctx.retry({ countdown: 5 });
        throw new Error("still broken");
      },
    });
    const { client: c } = await client([ok, flaky]);
    const okIds = await Promise.all([1, 2, 3].map(() => c.enqueue("otel.metrics.ok", {})));
    const flakyId = await c.enqueue("otel.metrics.flaky", {}, { maxRetries: 1 });
    for (const id of okIds) await c.waitForTask(id, { timeout: "10s" });
    expect((await c.waitForTask(flakyId, { timeout: "10s" })).state).toBe("failed");

    const ok_ = { "stem.task.name": "otel.metrics.ok", "stem.queue": "default" };
    const fl = { "stem.task.name": "otel.metrics.flaky", "stem.queue": "default" };
    await eventually(
      async () =>
        (await total("stem.task.duration", { "stem.task.name": "otel.metrics.flaky" })) === 2,
      5000,
      "durations",
    );
    expect(await total("stem.tasks.started", ok_)).toBe(3);
    expect(await total("stem.tasks.succeeded", ok_)).toBe(3);
    expect(await total("stem.tasks.started", fl)).toBe(2);
    expect(await total("stem.tasks.retried", fl)).toBe(1);
    expect(await total("stem.tasks.failed", fl)).toBe(1);
    expect(await total("stem.tasks.succeeded", fl)).toBe(0);
    expect(
      await total("stem.tasks.dead_lettered", { ...fl, "stem.reason": "max-retries-exhausted" }),
    ).toBe(1);
    expect(await total("stem.task.duration", { ...ok_, "stem.task.outcome": "succeeded" })).toBe(3);
    expect(await total("stem.task.duration", { ...fl, "stem.task.outcome": "retrying" })).toBe(1);
    expect(await total("stem.task.duration", { ...fl, "stem.task.outcome": "failed" })).toBe(1);
  });

  test("a task refused for its signature counts as dead-lettered with reason signature", async () => {
    const guarded = defineTask({ name: "otel.metrics.guarded", run: () => "never" });
    const signer = new PayloadSigner({
      keys: { k1: Buffer.alloc(32, 7).toString("base64") },
      activeKey: "k1",
    });
    const c = await StemClient.inMemory({ tasks: [guarded], signer });
    opened.push(c);
    await c.createWorker().start();
    await c.broker.publish([buildEnvelope({ name: "otel.metrics.guarded" })]);
    const attrs = { "stem.task.name": "otel.metrics.guarded", "stem.reason": "signature" };
    await eventually(
      async () => (await total("stem.tasks.dead_lettered", attrs)) === 1,
      5000,
      "signature dead letter",
    );
    expect(await total("stem.tasks.started", { "stem.task.name": "otel.metrics.guarded" })).toBe(0);
  });

  test("queue depth and in-flight gauges read the running workers", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const blocker = defineTask({ name: "otel.gauge.block", run: () => gate });
    const { client: c, worker } = await client([blocker], {
      queues: ["otel-depth"],
      concurrency: 1,
      prefetch: 1,
      workerId: "otel-gauge-worker",
    });
    const ids = await Promise.all(
      [1, 2, 3, 4].map(() => c.enqueue("otel.gauge.block", {}, { queue: "otel-depth" })),
    );
    await eventually(() => worker.stats().inflight === 1, 5000, "one task running");
    const gauge = async (name: string, key: string, value: string) =>
      (await points(name)).find((p) => p.attributes[key] === value)?.value;
    expect(await gauge("stem.worker.inflight", "stem.worker.id", "otel-gauge-worker")).toBe(1);
    expect(await gauge("stem.queue.depth", "stem.queue", "otel-depth")).toBe(3);
    release();
    for (const id of ids) await c.waitForTask(id, { timeout: "10s" });
    expect(await gauge("stem.queue.depth", "stem.queue", "otel-depth")).toBe(0);
    expect(await gauge("stem.worker.inflight", "stem.worker.id", "otel-gauge-worker")).toBe(0);
    // A stopped worker is no longer observed.
    await worker.shutdown();
    expect(liveWorkers().map((w) => w.id)).not.toContain("otel-gauge-worker");
  });

  test("schedule drift is recorded from scheduleEntryDispatched", async () => {
    const entry = {
      entryId: "otel-drift-entry",
      taskName: "report.daily",
      scheduledFor: Date.now() - 40,
    };
    signals.scheduleEntryDispatched.emit({ ...entry, taskId: "t1", driftMs: 40 });
    signals.scheduleEntryDispatched.emit({ ...entry, taskId: "t2", driftMs: 120 });
    const drift = (await points("stem.schedule.drift")).find(
      (p) => p.attributes["stem.schedule.id"] === "otel-drift-entry",
    );
    expect(drift?.value).toMatchObject({ count: 2, sum: 160, min: 40, max: 120 });
  });

  test("workflow run counts come from every workflowRun* signal there is", async () => {
    const ownReader = new TestReader();
    const own = new MeterProvider({ readers: [ownReader] });
    const source = {
      workflowRunStarted: new Signal<{ workflow: string }>("workflow-run-started"),
      workflowRunCompleted: new Signal<{ run: { workflow: string } }>("workflow-run-completed"),
      somethingElse: new Signal<unknown>("other"),
    };
    const off = recordWorkflowRuns(source, own.getMeter("stem"));
    expect(off).toHaveLength(2);
    source.workflowRunStarted.emit({ workflow: "onboarding" });
    source.workflowRunStarted.emit({ workflow: "onboarding" });
    source.workflowRunCompleted.emit({ run: { workflow: "onboarding" } });
    source.somethingElse.emit({});
    const { resourceMetrics } = await ownReader.collect();
    const runs = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === "stem.workflow.runs");
    const values = Object.fromEntries(
      (runs?.dataPoints ?? []).map((p) => [String(p.attributes["stem.workflow.event"]), p.value]),
    );
    expect(values).toEqual({ started: 2, completed: 1 });
    expect(runs?.dataPoints.every((p) => p.attributes["stem.workflow.name"] === "onboarding")).toBe(
      true,
    );
    for (const disconnect of off) disconnect();
    await own.shutdown();
  });
});
