/**
 * Errors that must not be retried: UnrecoverableError, and per-task retryOn / dontRetryOn
 * (Celery's autoretry_for), through a real worker on the memory store and across a thread.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  defineTask,
  FixedRetryStrategy,
  StemClient,
  StemError,
  UnrecoverableError,
} from "../../src/index.ts";
import { isUnrecoverable, retryVeto } from "../../src/core/failure-control.ts";
import type { AnyTaskHandler } from "../../src/core/task.ts";
import type { WorkerOptions } from "../../src/worker/worker.ts";

class NetworkError extends Error {}

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

async function setup(tasks: AnyTaskHandler[], options: Partial<WorkerOptions> = {}) {
  const client = await StemClient.inMemory({ tasks });
  opened.push(client);
  const worker = client.createWorker({ retryStrategy: new FixedRetryStrategy(5), ...options });
  await worker.start();
  return client;
}

async function runToEnd(client: StemClient, name: string) {
  const id = await client.enqueue(name);
  const result = await client.waitForTask(id, { timeout: 10_000 });
  const dead = await client.broker.getDeadLetter(id);
  return { result, dead, status: await client.getTaskStatus(id) };
}

describe("errors that must not be retried", () => {
  test("an UnrecoverableError fails the task at once, whatever maxRetries says", async () => {
    let runs = 0;
    const charge = defineTask({
      name: "charge",
      options: { maxRetries: 5 },
      run: () => {
        runs++;
        throw new UnrecoverableError("card declined");
      },
    });
    const client = await setup([charge]);
    const { result, dead, status } = await runToEnd(client, "charge");
    expect(result.state).toBe("failed");
    expect(result.error).toMatchObject({ type: "UnrecoverableError", message: "card declined" });
    expect(dead?.reason).toBe("unrecoverable");
    expect(status?.attempt).toBe(1);
    expect(runs).toBe(1);
  });

  test("retryOn retries matching errors (subclasses too) and fails others as not-retryable", async () => {
    class ConnectionReset extends NetworkError {}
    const attempts: number[] = [];
    const fetcher = defineTask({
      name: "fetcher",
      options: { maxRetries: 5, retryOn: [NetworkError] },
      run: (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new ConnectionReset("reset");
        throw new RangeError("bad page number");
      },
    });
    const client = await setup([fetcher]);
    const { result, dead } = await runToEnd(client, "fetcher");
    expect(attempts).toEqual([1, 2, 3]);
    expect(result.error?.type).toBe("RangeError");
    expect(dead?.reason).toBe("not-retryable");
    expect(dead?.meta.note).toBe("did not match retryOn");
  });

  test("dontRetryOn takes a predicate; a predicate that throws counts as not retryable", async () => {
    const picky = defineTask({
      name: "picky",
      options: { maxRetries: 3, dontRetryOn: (e) => (e as Error).message.startsWith("4") },
      run: () => {
        throw new Error("404 not found");
      },
    });
    const broken = defineTask({
      name: "broken",
      options: {
        maxRetries: 3,
        retryOn: () => {
          throw new Error("predicate bug");
        },
      },
      run: () => {
        throw new Error("boom");
      },
    });
    const client = await setup([picky, broken]);
    const a = await runToEnd(client, "picky");
    expect(a.dead?.reason).toBe("not-retryable");
    expect(a.dead?.meta.note).toBe("matched dontRetryOn");
    expect(a.status?.attempt).toBe(1);
    const b = await runToEnd(client, "broken");
    expect(b.dead?.reason).toBe("not-retryable");
    expect(String(b.dead?.meta.note)).toContain("predicate bug");
  });

  test("ctx.retry() and a hard time limit follow maxRetries, not retryOn", async () => {
    const asks = defineTask({
      name: "asks",
      options: { maxRetries: 1, retryOn: [NetworkError] },
      run: (ctx) => (ctx.attempt === 1 ? ctx.retry({ countdown: 1 }) : "second"),
    });
    const slow = defineTask({
      name: "slow",
      options: { maxRetries: 1, retryOn: [NetworkError], hardTimeLimit: 30 },
      // Ends when aborted, so the worker's stop does not wait for a stuck inline handler.
      run: (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))),
        ),
    });
    const client = await setup([asks, slow]);
    const a = await runToEnd(client, "asks");
    expect(a.result.value).toBe("second");
    const s = await runToEnd(client, "slow");
    expect(s.dead?.reason).toBe("max-retries-exhausted");
    expect(s.status?.attempt).toBe(2);
  });

  test("a thread-isolated handler's UnrecoverableError and retryOn classes survive the thread boundary", async () => {
    const mod = await import("../fixtures/thread-tasks.ts");
    const client = await setup([mod.unrecoverable, mod.flakyNetwork], {
      isolation: "thread",
      tasksModule: new URL("../fixtures/thread-tasks.ts", import.meta.url).pathname,
      concurrency: 1,
    });
    const u = await runToEnd(client, "thread.unrecoverable");
    expect(u.dead?.reason).toBe("unrecoverable");
    expect(u.status?.attempt).toBe(1);
    // Attempt 1 throws a NetworkError subclass (retried), attempt 2 a TypeError (not).
    const f = await runToEnd(client, "thread.flakyNetwork");
    expect(f.status?.attempt).toBe(2);
    expect(f.result.error?.type).toBe("TypeError");
    expect(f.dead?.reason).toBe("not-retryable");
  });

  test("defineTask refuses retryOn / dontRetryOn that are not Error classes or a predicate", () => {
    const bad = (options: object) => () => defineTask({ name: "bad.task", options, run: () => 1 });
    expect(bad({ retryOn: ["NetworkError"] })).toThrow(
      'task "bad.task": retryOn must be a list of Error classes or a predicate',
    );
    expect(bad({ dontRetryOn: [Date] })).toThrow(StemError);
    expect(bad({ retryOn: NetworkError })).toThrow("retryOn");
    expect(() =>
      defineTask({ name: "ok", options: { retryOn: [NetworkError] }, run: () => 1 }),
    ).not.toThrow();
  });

  test("an UnrecoverableError is recognised by name once copied (a thread's plain Error)", () => {
    const copied = Object.assign(new Error("x"), { name: "UnrecoverableError" });
    expect(isUnrecoverable(copied)).toBe(true);
    expect(retryVeto(copied, {})).toEqual({ reason: "unrecoverable" });
    expect(retryVeto(new Error("x"), {})).toBeUndefined();
  });
});
