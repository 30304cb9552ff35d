/**
 * A task's recorded state follows what really happened to it when a worker stops or a
 * revoke terminates it: never left `running`, never overwritten after `revoked`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, FixedRetryStrategy, StemClient } from "../../src/index.ts";
import type { AnyTaskHandler } from "../../src/core/task.ts";
import type { WorkerOptions } from "../../src/worker/worker.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

async function setup(tasks: AnyTaskHandler[], options: Partial<WorkerOptions> = {}) {
  const client = await StemClient.inMemory({ tasks });
  opened.push(client);
  const worker = client.createWorker({ retryStrategy: new FixedRetryStrategy(10), ...options });
  await worker.start();
  return { client, worker };
}

/** A handler that ignores its abort signal and never ends by itself. */
const stuck = defineTask({
  name: "stuck",
  run: () => new Promise<never>(() => {}),
});

describe("task states when work stops", () => {
  test("a hard shutdown hands a running task back as queued, its attempt not counted", async () => {
    const { client, worker } = await setup([stuck]);
    const id = await client.enqueue("stuck");
    await eventually(async () => (await client.getTaskStatus(id))?.state === "running");
    await worker.shutdown("hard");
    const status = await client.getTaskStatus(id);
    expect(status?.state).toBe("queued");
    expect(status?.attempt).toBe(0);
    const [stats] = await client.broker.stats(["default"]);
    expect(stats).toMatchObject({ pending: 1, inflight: 0 });
  });

  test("a warm shutdown that runs out of time hands the task back as queued", async () => {
    const { client, worker } = await setup([stuck], { shutdownTimeout: "100ms" });
    const id = await client.enqueue("stuck");
    await eventually(async () => (await client.getTaskStatus(id))?.state === "running");
    await worker.shutdown("warm");
    expect((await client.getTaskStatus(id))?.state).toBe("queued");
  });

  test("a terminated task stays revoked even if its handler keeps reporting progress", async () => {
    let reports = 0;
    let done = false;
    const chatty = defineTask({
      name: "chatty",
      run: async (ctx) => {
        // Goes on after being terminated (an inline handler cannot be stopped by force),
        // until the test has seen enough; the worker's stop then waits for it to return.
        while (!done) {
          await sleep(10);
          await ctx.progress(++reports % 100);
        }
      },
    });
    const { client, worker } = await setup([chatty]);
    const id = await client.enqueue("chatty");
    await eventually(() => reports > 2);
    worker.revoke([
      {
        namespace: "stem",
        taskId: id,
        version: 1,
        issuedAt: Date.now(),
        terminate: true,
        reason: "stop it",
      },
    ]);
    expect((await client.waitForTask(id, { timeout: 3000 })).state).toBe("revoked");
    const after = reports;
    await eventually(() => reports > after + 5);
    await sleep(50);
    const status = await client.getTaskStatus(id);
    expect(status?.state).toBe("revoked");
    expect(status?.meta.revokedReason).toBe("stop it");
    done = true;
  });
});
