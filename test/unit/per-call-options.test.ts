/**
 * Per-call options that used to need raw meta keys: softTimeLimit, hardTimeLimit and
 * maxDeliveries on the enqueue call override the task's own; TaskCall.options is optional.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, MetaKeys, StemClient, StemError } from "../../src/index.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

/** Waits for its signal, then reports why it was aborted. */
const waits = defineTask({
  name: "waits",
  options: { softTimeLimit: "1h", hardTimeLimit: "2h" },
  run: (ctx) =>
    new Promise((resolve, reject) =>
      ctx.signal.addEventListener("abort", () => {
        const reason = String((ctx.signal.reason as Error)?.message);
        if (reason.includes("soft")) resolve(reason);
        else reject(new Error(reason));
      }),
    ),
});
const plain = defineTask({ name: "plain", run: () => "ok" });

async function client() {
  const c = await StemClient.inMemory({ tasks: [waits, plain] });
  opened.push(c);
  return c;
}

describe("per-call options", () => {
  test("enqueueMany takes calls without options", async () => {
    const c = await client();
    const worker = c.createWorker();
    await worker.start();
    const [id] = await c.stem.enqueueMany([{ name: "plain", args: {} }]);
    expect((await c.waitForTask(id!, { timeout: 5000 })).value).toBe("ok");
  });

  test("a per-call softTimeLimit overrides the task's and fires the signal", async () => {
    const c = await client();
    await c.createWorker().start();
    const id = await c.enqueue("waits", {}, { softTimeLimit: 20 });
    const result = await c.waitForTask(id, { timeout: 5000 });
    expect(result.value).toBe("soft time limit (20 ms) exceeded");
  });

  test("a per-call hardTimeLimit overrides the task's and fails the attempt", async () => {
    const c = await client();
    await c.createWorker().start();
    const id = await c.enqueue("waits", {}, { hardTimeLimit: "30ms" });
    const result = await c.waitForTask(id, { timeout: 5000 });
    expect(result.state).toBe("failed");
    expect(result.error?.message).toContain("hard time limit (30 ms) exceeded");
  });

  test("a per-call maxDeliveries overrides the worker's", async () => {
    const c = await client();
    const id = await c.enqueue("plain", {}, { maxDeliveries: 1 });
    // One delivery released without an outcome: the next one is over the call's limit.
    const [d] = await c.broker.fetch(["default"], { max: 1, leaseMs: 5000, consumer: "t" });
    expect(d?.envelope.meta[MetaKeys.maxDeliveries]).toBe(1);
    await c.broker.nack(d!);
    await c.createWorker({ maxDeliveries: 10 }).start();
    const result = await c.waitForTask(id, { timeout: 5000 });
    expect(result.state).toBe("failed");
    expect((await c.broker.getDeadLetter(id))?.reason).toBe("max-deliveries");
  });

  test("bad per-call limits are refused at enqueue, naming the option", async () => {
    const c = await client();
    await expect(c.enqueue("plain", {}, { maxDeliveries: 0 })).rejects.toThrow(
      "maxDeliveries must be a positive integer, got 0",
    );
    await expect(
      c.enqueue("plain", {}, { softTimeLimit: "2s", hardTimeLimit: "1s" }),
    ).rejects.toThrow(StemError);
    await expect(c.enqueue("plain", {}, { hardTimeLimit: "soon" })).rejects.toThrow(
      "hardTimeLimit",
    );
  });
});
