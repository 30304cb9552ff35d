import { afterEach, describe, expect, test } from "bun:test";
import type { TaskContext } from "../../src/core/context.ts";
import { TaskRegistry } from "../../src/core/registry.ts";
import { HandlerCrashed } from "../../src/worker/executor.ts";
import { ThreadExecutor } from "../../src/worker/thread-executor.ts";
import { eventually } from "../../src/testing/harness.ts";
import * as tasks from "../fixtures/thread-tasks.ts";

const registry = new TaskRegistry([tasks.exits, tasks.exitsWhenIdle, tasks.add]);
const executors: ThreadExecutor[] = [];
afterEach(async () => {
  for (const e of executors.splice(0)) await e.close();
});

function executor(): ThreadExecutor {
  const e = new ThreadExecutor({
    tasksModule: new URL("../fixtures/thread-tasks.ts", import.meta.url).pathname,
  });
  executors.push(e);
  return e;
}

function context(name: string, args: Record<string, unknown> = {}): TaskContext {
  return {
    id: crypto.randomUUID(),
    name,
    queue: "default",
    attempt: 0,
    args,
    headers: {},
    meta: {},
    workerId: "test",
    signal: new AbortController().signal,
    heartbeat: async () => {},
    extendLease: async () => true,
    progress: async () => {},
    retry: () => {
      throw new Error("not used");
    },
    enqueue: async () => "",
  };
}

function run(e: ThreadExecutor, name: string, args?: Record<string, unknown>) {
  return e.execute(registry.get(name)!, context(name, args)).result;
}

describe("thread executor", () => {
  test("a handler that calls process.exit fails with a crashed error and its thread is gone", async () => {
    const e = executor();
    const error = (await run(e, "thread.exit").catch((err) => err)) as Error;
    expect(error).toBeInstanceOf(HandlerCrashed);
    expect(error.name).toBe("crashed");
    expect(error.message).toContain("exited (code 7)");
    expect(e.threads).toBe(0);
    expect(await run(e, "thread.add", { a: 1, b: 2 })).toBe(3);
  });

  test("a thread that dies while idle is dropped, not handed the next task", async () => {
    const e = executor();
    await run(e, "thread.exitWhenIdle");
    await eventually(() => e.threads === 0, 10_000, "the idle thread to exit");
    expect(await run(e, "thread.add", { a: 2, b: 3 })).toBe(5);
    expect(e.threads).toBe(1);
  });
});
