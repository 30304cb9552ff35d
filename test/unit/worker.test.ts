import { afterEach, describe, expect, test } from "bun:test";
import type { AnyTaskHandler } from "../../src/core/task.ts";
import {
  defineTask,
  FakeClock,
  FixedRetryStrategy,
  StemClient,
  StemError,
  signals,
  type Worker,
  type WorkerOptions,
} from "../../src/index.ts";
import { deadLetterOf, eventually, sleep } from "../../src/testing/harness.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";

const logs = captureLogs();
const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

async function setup(
  tasks: AnyTaskHandler[],
  worker: Partial<WorkerOptions> = {},
  clock?: FakeClock,
) {
  const client = await StemClient.inMemory({ tasks, clock });
  opened.push(client);
  const w: Worker = client.createWorker({ retryStrategy: new FixedRetryStrategy(10), ...worker });
  await w.start();
  return { client, worker: w };
}

describe("worker", () => {
  test("a failing task retries with backoff, then succeeds", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const flaky = defineTask({
      name: "flaky",
      options: { maxRetries: 3, retryBackoff: { kind: "exponential", base: "1s", max: "1m" } },
      run: (ctx) => {
        calls++;
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        return `ok on attempt ${ctx.attempt}`;
      },
    });
    const { client } = await setup([flaky], { retryStrategy: undefined }, clock);
    const id = await client.enqueue("flaky");
    const retrying = await eventually(async () => {
      const s = await client.getTaskStatus(id);
      return s?.state === "retrying" ? s : undefined;
    });
    expect(retrying.error?.message).toBe("boom 1");
    expect(retrying.attempt).toBe(1);
    const delay = retrying.meta.retryDelayMs as number;
    // Exponential with jitter: base 1s after attempt 1 is between 750 ms and 1 s.
    expect(delay).toBeGreaterThanOrEqual(750);
    expect(delay).toBeLessThanOrEqual(1000);
    await clock.advance(delay - 1);
    await sleep(50);
    expect(calls).toBe(1);
    await clock.advance(1);
    await eventually(async () => (await client.getTaskStatus(id))?.attempt === 2 && calls === 2);
    const second = await eventually(async () => {
      const s = await client.getTaskStatus(id);
      return s?.state === "retrying" && s.attempt === 2 ? s : undefined;
    });
    // After attempt 2 the base doubles: 1.5 s to 2 s.
    expect(second.meta.retryDelayMs as number).toBeGreaterThanOrEqual(1500);
    await clock.advance(2000);
    const result = await client.waitForTask(id, { timeout: 3000 });
    expect(result.state).toBe("succeeded");
    expect(result.value).toBe("ok on attempt 3");
    expect(result.attempt).toBe(3);
  });

  test("after maxRetries a task is dead-lettered with its error", async () => {
    const failed: string[] = [];
    const off = signals.taskFailed.connect((p) => {
      failed.push(p.error.message);
    });
    const bad = defineTask({
      name: "always.bad",
      options: { maxRetries: 2 },
      run: () => {
        throw new TypeError("nope");
      },
    });
    const { client } = await setup([bad]);
    const id = await client.enqueue("always.bad", { x: 1 });
    const result = await client.waitForTask(id, { timeout: 5000 });
    off();
    expect(result.state).toBe("failed");
    expect(result.error).toMatchObject({ type: "TypeError", message: "nope" });
    // maxRetries 2: three attempts.
    expect(result.attempt).toBe(3);
    const dead = await client.broker.getDeadLetter(id);
    expect(dead?.reason).toBe("max-retries-exhausted");
    expect(dead?.meta.error).toBe("nope");
    expect(dead?.envelope.args).toEqual({ x: 1 });
    expect(failed).toContain("nope");
  });

  test("a producer that does not know the task leaves retries to the worker's task options", async () => {
    let calls = 0;
    const flaky = defineTask({
      name: "flaky.remote",
      options: { maxRetries: 2 },
      run: (ctx) => {
        calls++;
        if (ctx.attempt < 3) throw new Error("not yet");
        return "ok";
      },
    });
    const { client } = await setup([flaky]);
    const { Stem } = await import("../../src/core/stem.ts");
    const producer = new Stem({ broker: client.broker, backend: client.backend });
    const id = await producer.enqueue("flaky.remote");
    const result = await client.waitForTask(id, { timeout: 3000 });
    expect(result.state).toBe("succeeded");
    expect(calls).toBe(3);
  });

  test("an unknown task name goes to the dead-letter queue and the worker goes on", async () => {
    const ok = defineTask({ name: "ok", run: () => "fine" });
    const { client } = await setup([ok]);
    const stem = new (await import("../../src/core/stem.ts")).Stem({
      broker: client.broker,
      backend: client.backend,
    });
    const ghost = await stem.enqueue("ghost.task");
    const good = await client.enqueue("ok");
    expect((await client.waitForTask(good, { timeout: 3000 })).value).toBe("fine");
    const dead = await deadLetterOf(client.broker, ghost);
    expect(dead.reason).toBe("unknown-task");
    expect((await client.getTaskStatus(ghost))?.state).toBe("dead");
  });

  test("the soft time limit fires the task's AbortSignal", async () => {
    const polite = defineTask({
      name: "polite",
      options: { softTimeLimit: "100ms" },
      run: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () =>
            resolve(`stopped: ${(ctx.signal.reason as Error).message}`),
          );
        }),
    });
    const { client } = await setup([polite]);
    const id = await client.enqueue("polite");
    const result = await client.waitForTask(id, { timeout: 3000 });
    expect(result.value).toBe("stopped: soft time limit (100 ms) exceeded");
  });

  test("a hard time limit ends a thread-isolated busy loop and the worker keeps serving", async () => {
    const mod = await import("../fixtures/thread-tasks.ts");
    const { client } = await setup([mod.spin, mod.add, mod.whoami], {
      isolation: "thread",
      tasksModule: new URL("../fixtures/thread-tasks.ts", import.meta.url).pathname,
      concurrency: 2,
    });
    const spinning = await client.enqueue("thread.spin");
    const result = await client.waitForTask(spinning, { timeout: 5000 });
    expect(result.state).toBe("failed");
    expect(result.error?.message).toContain("hard time limit (300 ms) exceeded");
    const sum = await client.enqueue("thread.add", { a: 2, b: 3 });
    expect((await client.waitForTask(sum, { timeout: 5000 })).value).toBe(5);
    const where = await client.enqueue("thread.whoami");
    expect((await client.waitForTask(where, { timeout: 5000 })).value).toEqual({
      isMainThread: false,
    });
  });

  test("a handler thread that exits fails its task as crashed; the worker goes on at full concurrency", async () => {
    const mod = await import("../fixtures/thread-tasks.ts");
    const { client, worker } = await setup([mod.exits, mod.nap], {
      isolation: "thread",
      tasksModule: new URL("../fixtures/thread-tasks.ts", import.meta.url).pathname,
      concurrency: 2,
    });
    const exiting = await client.enqueue("thread.exit");
    const crashed = await client.waitForTask(exiting, { timeout: 10_000 });
    expect(crashed.state).toBe("failed");
    expect(crashed.error?.type).toBe("crashed");
    expect(crashed.error?.message).toContain("exited (code 7)");
    const [dead] = await client.broker.listDeadLetters();
    expect(dead?.reason).toBe("crashed");
    // Two slots, two threads: both naps run at once.
    let both = false;
    const naps = await Promise.all([1, 2].map(() => client.enqueue("thread.nap", { ms: 400 })));
    await eventually(() => (both ||= worker.stats().inflight === 2), 10_000);
    const threads = await Promise.all(
      naps.map(async (id) => (await client.waitForTask<number>(id, { timeout: 10_000 })).value),
    );
    expect(new Set(threads).size).toBe(2);
    expect(worker.stats().inflight).toBe(0);
  });

  test("a handler thread is replaced after maxTasksPerThread tasks", async () => {
    const mod = await import("../fixtures/thread-tasks.ts");
    const { client } = await setup([mod.threadId], {
      isolation: "thread",
      tasksModule: new URL("../fixtures/thread-tasks.ts", import.meta.url).pathname,
      concurrency: 1,
      maxTasksPerThread: 2,
    });
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await client.enqueue("thread.id");
      ids.push((await client.waitForTask<number>(id, { timeout: 5000 })).value!);
    }
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[2]).not.toBe(ids[1]);
  });

  test("a task storing its result holds no prefetch slot: the next is claimed and run meanwhile", async () => {
    const started: number[] = [];
    const step = defineTask({
      name: "step",
      run: (_ctx, args: { n: number }) => {
        started.push(args.n);
      },
    });
    const client = await StemClient.inMemory({ tasks: [step] });
    opened.push(client);
    let release = () => {};
    const writesHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const backend = client.backend;
    // The first final status write hangs until released; every other write goes through.
    let held = false;
    const slowBackend = Object.create(backend, {
      set: {
        value: async (statuses: { state: string }[], ttlMs?: number) => {
          if (!held && statuses.some((s) => s.state === "succeeded")) {
            held = true;
            await writesHeld;
          }
          return backend.set(statuses as never, ttlMs);
        },
      },
    });
    const worker = client.createWorker({ backend: slowBackend, concurrency: 1, prefetch: 1 });
    await worker.start();
    const first = await client.enqueue("step", { n: 1 });
    try {
      await eventually(() => held);
      await client.enqueue("step", { n: 2 });
      // The second task runs while the first one's result write is still in flight.
      await eventually(() => started.length === 2, 3000, "the second task to start");
      expect(started).toEqual([1, 2]);
      expect((await client.getTaskStatus(first))?.state).not.toBe("succeeded");
    } finally {
      release();
    }
    expect((await client.waitForTask(first, { timeout: 3000 })).state).toBe("succeeded");
  });

  test("tasks storing their outcome free their slots only up to a limit: a store that stops answering holds the worker back", async () => {
    let ran = 0;
    const step = defineTask({ name: "step", run: () => void ran++ });
    const client = await StemClient.inMemory({ tasks: [step] });
    opened.push(client);
    const backend = client.backend;
    let answer = () => {};
    const answering = new Promise<void>((resolve) => {
      answer = resolve;
    });
    // Final statuses wait until the store answers again: finished tasks stay "storing".
    const stuck = Object.create(backend, {
      set: {
        value: async (statuses: { state: string }[], ttlMs?: number) => {
          if (statuses.some((s) => s.state === "succeeded")) await answering;
          return backend.set(statuses as never, ttlMs);
        },
      },
    });
    const worker = client.createWorker({ backend: stuck, concurrency: 1, prefetch: 1 });
    await worker.start();
    await client.stem.enqueueMany(Array.from({ length: 100 }, () => ({ name: "step", args: {} })));
    try {
      await eventually(() => ran >= 33, 5000, "33 tasks run");
      await Bun.sleep(300);
      // At most 32 (MIN_FETCH_BATCH) storing their outcome, plus one more claimed and run.
      expect(ran).toBe(33);
    } finally {
      answer();
    }
    await eventually(() => ran === 100, 10_000, "every task once the store answers");
    await worker.shutdown();
  });

  test("a warm shutdown lets running tasks finish and returns waiting ones", async () => {
    let finished = 0;
    let finish = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const slow = defineTask({
      name: "slow",
      run: async () => {
        await gate;
        finished++;
        return "done";
      },
    });
    const { client, worker } = await setup([slow], { concurrency: 2, prefetch: 4 });
    const ids = await Promise.all([1, 2, 3, 4].map(() => client.enqueue("slow")));
    await eventually(() => worker.stats().inflight === 2);
    // The running tasks finish only after the shutdown has begun.
    const stopped = worker.shutdown();
    finish();
    await stopped;
    expect(finished).toBe(2);
    const states = await Promise.all(
      ids.map(async (id) => (await client.getTaskStatus(id))?.state),
    );
    expect(states.filter((s) => s === "succeeded").length).toBe(2);
    const [stats] = await client.broker.stats(["default"]);
    expect(stats.pending).toBe(2);
    expect(stats.inflight).toBe(0);
  });

  test("a '10/s' rate limit admits 20 tasks in 2 seconds of its clock", async () => {
    const clock = new FakeClock();
    const started: number[] = [];
    const limited = defineTask({
      name: "limited",
      options: { rateLimit: "10/s" },
      run: () => {
        started.push(clock.now());
      },
    });
    const { client } = await setup([limited], { concurrency: 10, prefetch: 50 }, clock);
    await client.stem.enqueueMany(
      Array.from({ length: 50 }, () => ({ name: "limited", args: {}, options: {} })),
    );
    await eventually(() => started.length > 0);
    const first = started[0];
    // Time moves only here, in small steps, each letting the woken tasks run.
    while (clock.now() - first < 2500) {
      await clock.advance(20);
      await sleep(1);
    }
    const inWindow = started.filter((t) => t - first < 2000).length;
    expect(inWindow).toBe(20);
  });

  test("higher priorities run first", async () => {
    const order: number[] = [];
    const job = defineTask<{ p: number }>({
      name: "prio",
      run: (_ctx, { p }) => void order.push(p),
    });
    const client = await StemClient.inMemory({ tasks: [job] });
    opened.push(client);
    for (const p of [1, 5, 9, 0, 7]) await client.enqueue("prio", { p }, { priority: p });
    const worker = client.createWorker({ concurrency: 1 });
    await worker.start();
    await eventually(() => order.length === 5);
    expect(order).toEqual([9, 7, 5, 1, 0]);
  });

  test("a revoked task is skipped, and a terminating revoke stops a running one", async () => {
    const ran: string[] = [];
    const job = defineTask({
      name: "revocable",
      run: async (ctx) => {
        ran.push(ctx.id);
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        );
      },
    });
    const { client, worker } = await setup([job]);
    const later = await client.enqueue("revocable", {}, { delay: "300ms" });
    await client.revokeStore.upsertAll([
      {
        namespace: "stem",
        taskId: later,
        version: 1,
        issuedAt: Date.now(),
        terminate: false,
        reason: "not needed",
      },
    ]);
    worker.revoke(await client.revokeStore.list("stem"));
    const skipped = await client.waitForTask(later, { timeout: 3000 });
    expect(skipped.state).toBe("revoked");
    expect(skipped.status.meta.revokedReason).toBe("not needed");
    expect(ran).not.toContain(later);

    const running = await client.enqueue("revocable");
    await eventually(() => ran.includes(running));
    const terminated = worker.revoke([
      {
        namespace: "stem",
        taskId: running,
        version: 2,
        issuedAt: Date.now(),
        terminate: true,
        reason: "stop it",
      },
    ]);
    expect(terminated).toEqual([running]);
    const stopped = await client.waitForTask(running, { timeout: 3000 });
    expect(stopped.state).toBe("revoked");
  });

  test("inline: a handler past its hard limit keeps its slot until it returns; its late result is dropped", async () => {
    const gates = new Map<string, () => void>();
    let now = 0;
    let most = 0;
    const stubborn = defineTask({
      name: "stubborn",
      options: { hardTimeLimit: "100ms", maxRetries: 0 },
      run: async (ctx) => {
        most = Math.max(most, ++now);
        // Ignores ctx.signal entirely.
        await new Promise<void>((resolve) => gates.set(ctx.id, resolve));
        now--;
        await ctx.progress(100);
        return "too late";
      },
    });
    const { client, worker } = await setup([stubborn], { concurrency: 1, prefetch: 2 });
    const [a, b] = [await client.enqueue("stubborn"), await client.enqueue("stubborn")];
    const first = await client.waitForTask(a, { timeout: 5000 });
    expect(first.state).toBe("failed");
    expect(first.error?.message).toContain("hard time limit (100 ms) exceeded");
    // The slot is still a's: b has not started.
    expect([...gates.keys()]).toEqual([a]);
    expect(worker.stats().active.map((t) => t.id)).toEqual([a]);
    expect(logs.records.some((r) => String(r.args[0]).includes("ignored the abort"))).toBe(true);
    gates.get(a)!();
    await eventually(() => gates.has(b), 5000, "b to start");
    expect((await client.waitForTask(b, { timeout: 5000 })).state).toBe("failed");
    gates.get(b)!();
    await eventually(() => worker.stats().inflight === 0, 5000, "b's handler to return");
    expect(most).toBe(1);
    const after = await client.getTaskStatus(a);
    expect(after?.state).toBe("failed");
    expect(after?.result).toBeUndefined();
    expect(after?.progress).toBeUndefined();
  });

  test("inline: a terminating revoke records revoked, and the handler that ignores it cannot flip it back", async () => {
    let release = () => {};
    let returned = false;
    const stubborn = defineTask({
      name: "stubborn.revoked",
      run: async (ctx) => {
        await new Promise<void>((resolve) => (release = resolve));
        expect(ctx.signal.aborted).toBe(true);
        await ctx.progress(100, { done: true });
        returned = true;
        return "finished anyway";
      },
    });
    const quick = defineTask({ name: "quick", run: () => "ok" });
    const { client, worker } = await setup([stubborn, quick], { concurrency: 2 });
    const id = await client.enqueue("stubborn.revoked");
    await eventually(() => worker.stats().inflight === 1);
    worker.revoke([
      { namespace: "stem", taskId: id, version: 1, issuedAt: Date.now(), terminate: true },
    ]);
    expect((await client.waitForTask(id, { timeout: 5000 })).state).toBe("revoked");
    expect(worker.stats().inflight).toBe(1);
    release();
    await eventually(
      () => returned && worker.stats().inflight === 0,
      5000,
      "the handler to return",
    );
    // Completions are written in order: once a later task is stored, so is anything before it.
    await client.waitForTask(await client.enqueue("quick"), { timeout: 5000 });
    const status = await client.getTaskStatus(id);
    expect(status?.state).toBe("revoked");
    expect(status?.progress).toBeUndefined();
    expect(status?.result).toBeUndefined();
  });

  test("a listener that throws is logged and ignored", async () => {
    const off = signals.taskSucceeded.connect(() => {
      throw new Error("listener bug");
    });
    const job = defineTask({ name: "fine", run: () => 42 });
    const { client } = await setup([job]);
    const id = await client.enqueue("fine");
    const result = await client.waitForTask(id, { timeout: 3000 });
    off();
    expect(result.value).toBe(42);
    const warning = await eventually(() =>
      logs.records.find((r) => r.type === "warn" && String(r.args[0]).includes("listener bug")),
    );
    expect(String(warning.args[0])).toBe("signal task-succeeded: listener failed: listener bug");
  });

  test("a running task's lease is extended so it is not delivered twice", async () => {
    let runs = 0;
    const long = defineTask({
      name: "long",
      options: { visibilityTimeout: "200ms" },
      run: async () => {
        runs++;
        await sleep(900);
        return "long done";
      },
    });
    const client = await StemClient.inMemory({ tasks: [long] });
    opened.push(client);
    const a = client.createWorker({ concurrency: 1 });
    const b = client.createWorker({ concurrency: 1 });
    await a.start();
    await b.start();
    const id = await client.enqueue("long");
    expect((await client.waitForTask(id, { timeout: 5000 })).value).toBe("long done");
    expect(runs).toBe(1);
  });

  test("ctx.retry, ctx.progress and ctx.enqueue", async () => {
    const child = defineTask({ name: "child", run: (ctx) => ctx.meta });
    const parent = defineTask({
      name: "parent",
      options: { maxRetries: 1 },
      run: async (ctx) => {
        if (ctx.attempt === 1) ctx.retry({ countdown: "20ms" });
        await ctx.progress(50, { half: true });
        return ctx.enqueue("child", { x: 1 });
      },
    });
    const { client } = await setup([child, parent]);
    const id = await client.enqueue("parent");
    const result = await client.waitForTask<string>(id, { timeout: 3000 });
    expect(result.attempt).toBe(2);
    expect(result.status.progress).toBeUndefined();
    const childResult = await client.waitForTask<Record<string, unknown>>(result.value!, {
      timeout: 3000,
    });
    expect(childResult.value).toMatchObject({ "stem.parentTaskId": id, "stem.rootTaskId": id });
  });

  test("progress is visible while the task runs", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const job = defineTask({
      name: "progressing",
      run: async (ctx) => {
        await ctx.progress(40, { step: 2 });
        await gate;
      },
    });
    const { client } = await setup([job]);
    const id = await client.enqueue("progressing");
    const running = await eventually(async () => {
      const s = await client.getTaskStatus(id);
      return s?.progress ? s : undefined;
    });
    expect(running.state).toBe("running");
    expect(running.progress).toMatchObject({ percent: 40, data: { step: 2 } });
    release();
    await client.waitForTask(id, { timeout: 3000 });
  });

  test("a unique task enqueued twice while pending returns the first id", async () => {
    const job = defineTask({
      name: "uniq",
      options: { unique: true, uniqueFor: "1m" },
      run: () => "u",
    });
    const client = await StemClient.inMemory({ tasks: [job] });
    opened.push(client);
    const first = await client.enqueue("uniq", { k: 1 });
    const second = await client.enqueue("uniq", { k: 1 });
    const other = await client.enqueue("uniq", { k: 2 });
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    const worker = client.createWorker();
    await worker.start();
    await client.waitForTask(first, { timeout: 3000 });
    // Released on completion: a new enqueue is a new task.
    expect(await client.enqueue("uniq", { k: 1 })).not.toBe(first);
  });

  test("tasks enqueued with explicit ids never end with a stale queued status", async () => {
    const fast = defineTask({ name: "fast", run: () => "done" });
    const { client } = await setup([fast], { concurrency: 20 });
    const calls = Array.from({ length: 300 }, (_, i) => ({
      name: "fast",
      args: {},
      options: { taskId: `explicit-${i}` },
    }));
    const ids = await client.stem.enqueueMany(calls);
    for (const id of ids)
      expect((await client.waitForTask(id, { timeout: 5000 })).state).toBe("succeeded");
    // A second enqueue of a finished id starts it again; of a live id is refused.
    const again = await client.enqueue("fast", {}, { taskId: "explicit-0" });
    expect((await client.waitForTask(again, { timeout: 5000 })).state).toBe("succeeded");
  });

  test("routing: enqueue call, then task options, then rules, then the default queue", async () => {
    const a = defineTask({ name: "reports.daily", run: () => 1 });
    const b = defineTask({ name: "mail.send", options: { queue: "mail" }, run: () => 2 });
    const c = defineTask({ name: "misc", run: () => 3 });
    const client = await StemClient.inMemory({
      tasks: [a, b, c],
      routing: [{ pattern: "reports.*", queue: "reports" }],
    });
    opened.push(client);
    const ids = [
      await client.enqueue("reports.daily"),
      await client.enqueue("mail.send"),
      await client.enqueue("misc"),
      await client.enqueue("misc", {}, { queue: "urgent" }),
    ];
    const queues = await Promise.all(
      ids.map(async (id) => (await client.getTaskStatus(id))?.queue),
    );
    expect(queues).toEqual(["reports", "mail", "default", "urgent"]);
  });

  test("unknown task names are refused at enqueue when the registry is known", async () => {
    const client = await StemClient.inMemory({
      tasks: [defineTask({ name: "known", run: () => 1 })],
    });
    opened.push(client);
    await expect(client.enqueue("unknown")).rejects.toThrow('unknown task "unknown"');
  });

  test("a bad rate limit is an error naming the task", () => {
    expect(() =>
      defineTask({ name: "bad.rate", options: { rateLimit: "ten per second" }, run: () => 1 }),
    ).toThrow('task "bad.rate": rateLimit "ten per second" is not a rate');
    expect(() => defineTask({ name: "bad.prio", options: { priority: 12 }, run: () => 1 })).toThrow(
      StemError,
    );
  });

  test("autoscaling grows concurrency with the backlog and shrinks when idle", async () => {
    const job = defineTask({ name: "scaled", run: () => sleep(150) });
    const { client, worker } = await setup([job], {
      autoscale: { min: 1, max: 4, tick: "50ms", idleAfter: "200ms" },
    });
    expect(worker.concurrency).toBe(1);
    await client.stem.enqueueMany(
      Array.from({ length: 30 }, () => ({ name: "scaled", args: {}, options: {} })),
    );
    await eventually(() => worker.concurrency === 4, 5000, "scale up");
    await eventually(() => worker.concurrency === 1, 10_000, "scale down");
  });
});
