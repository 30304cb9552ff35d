/**
 * `ignoreResult` on every adapter: a task that keeps no result leaves no status row after
 * it succeeds, still retries, and still dead-letters (the dead letter carries the error),
 * while a task beside it keeps its status as usual. Waiting on it is refused.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { signals } from "../../src/core/signals.ts";
import { defineTask, StemClient } from "../../src/index.ts";
import { deadLetterOf } from "../../src/testing/harness.ts";
import { ADAPTERS, type TestStore } from "./fixtures/adapter-stores.ts";

let store: TestStore | undefined;
let client: StemClient | undefined;
const disconnect: (() => void)[] = [];
afterEach(async () => {
  for (const d of disconnect.splice(0)) d();
  await client?.close();
  await store?.cleanup();
  client = store = undefined;
});

/**
 * Resolves when the task with `id` settles as `kind` (signals are emitted after the ack;
 * a task failing for good emits taskFailed once it is dead-lettered).
 */
function settled(kind: "succeeded" | "failed", id: string): Promise<void> {
  const signal = kind === "succeeded" ? signals.taskSucceeded : signals.taskFailed;
  return new Promise((resolve) => {
    disconnect.push(
      signal.connect(({ envelope }) => {
        if (envelope.id === id) resolve();
      }),
    );
  });
}

function tasks() {
  const attempts = new Map<string, number>();
  const count = (id: string) => attempts.set(id, (attempts.get(id) ?? 0) + 1).get(id)!;
  const quiet = defineTask<{ n: number }>({
    name: "ir.quiet",
    options: { ignoreResult: true },
    run: (ctx, { n }) => (count(ctx.id), n * 2),
  });
  const flaky = defineTask({
    name: "ir.flaky",
    options: { maxRetries: 2, retryBackoff: { kind: "fixed", delay: 10 } },
    run: (ctx) => {
      if (count(ctx.id) < 3) throw new Error("not yet");
      return "third time";
    },
  });
  const broken = defineTask({
    name: "ir.broken",
    options: { ignoreResult: true, maxRetries: 1, retryBackoff: { kind: "fixed", delay: 10 } },
    run: (ctx) => {
      count(ctx.id);
      throw new Error("always broken");
    },
  });
  const loud = defineTask({ name: "ir.loud", run: () => "kept" });
  return { attempts, list: [quiet, flaky, broken, loud] };
}

for (const adapter of ADAPTERS) {
  describe(`ignoreResult on ${adapter.name}`, () => {
    test("a task option: no status row after success; the task beside it keeps its own", async () => {
      store = await adapter.open("ignres");
      const { attempts, list } = tasks();
      client = await StemClient.fromUrl(store.url, { tasks: list });
      const quietId = await client.enqueue("ir.quiet", { n: 2 });
      // Nothing is written at enqueue either.
      expect(await client.getTaskStatus(quietId)).toBeNull();
      const loudId = await client.enqueue("ir.loud");
      expect((await client.getTaskStatus(loudId))?.state).toBe("queued");
      const done = settled("succeeded", quietId);
      await client.createWorker({ concurrency: 2 }).start();
      await done;
      expect((await client.waitForTask(loudId, { timeout: 20_000 })).value).toBe("kept");
      expect(attempts.get(quietId)).toBe(1);
      expect(await client.getTaskStatus(quietId)).toBeNull();
      expect(await client.backend.getMany([quietId])).toEqual([null]);
      const [stats] = await client.broker.stats(["default"]);
      expect(stats).toMatchObject({ pending: 0, inflight: 0, delayed: 0 });
    }, 30_000);

    test("per enqueue: retries still happen, and no status is kept", async () => {
      store = await adapter.open("ignres");
      const { attempts, list } = tasks();
      client = await StemClient.fromUrl(store.url, { tasks: list });
      const id = await client.enqueue("ir.flaky", {}, { ignoreResult: true });
      const done = settled("succeeded", id);
      await client.createWorker().start();
      await done;
      expect(attempts.get(id)).toBe(3);
      expect(await client.getTaskStatus(id)).toBeNull();
      await expect(client.waitForTask(id)).rejects.toThrow(/enqueued with ignoreResult/);
    }, 30_000);

    test("a failing task is dead-lettered with its error, and keeps no status", async () => {
      store = await adapter.open("ignres");
      const { attempts, list } = tasks();
      client = await StemClient.fromUrl(store.url, { tasks: list });
      const id = await client.enqueue("ir.broken");
      const done = settled("failed", id);
      await client.createWorker().start();
      await done;
      expect(attempts.get(id)).toBe(2);
      const dead = await deadLetterOf(client.broker, id);
      expect(dead.reason).toBe("max-retries-exhausted");
      expect(dead.meta.error).toBe("always broken");
      expect(await client.getTaskStatus(id)).toBeNull();
    }, 30_000);
  });
}

describe("ignoreResult on the producer", () => {
  test("waitForTask is refused at once; ignoreResult: false on the call keeps the result", async () => {
    const { list } = tasks();
    client = await StemClient.inMemory({ tasks: list });
    const quiet = await client.enqueue("ir.quiet", { n: 1 });
    await expect(client.waitForTask(quiet, { timeout: "1h" })).rejects.toThrow(
      `task ${quiet} was enqueued with ignoreResult`,
    );
    expect(client.stem.ignoresResult("ir.quiet")).toBe(true);
    expect(client.stem.ignoresResult("ir.quiet", { ignoreResult: false })).toBe(false);
    const kept = await client.enqueue("ir.quiet", { n: 1 }, { ignoreResult: false });
    expect((await client.getTaskStatus(kept))?.state).toBe("queued");
  });

  test("a non-boolean ignoreResult task option is refused, naming the task", () => {
    expect(() =>
      defineTask({ name: "ir.bad", options: { ignoreResult: "yes" as never }, run: () => {} }),
    ).toThrow('task "ir.bad": ignoreResult must be a boolean');
  });
});
