/**
 * Signatures cover queue, priority, maxRetries and the visibility timeout: every broker
 * must hand those back exactly as published, through a first delivery and a retry, or
 * signed tasks would be refused.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { defineTask, FixedRetryStrategy, PayloadSigner } from "../../src/index.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const flaky = defineTask({
  name: "signed.flaky",
  options: { maxRetries: 2, visibilityTimeout: "20s", priority: 7, queue: "signed" },
  run: (ctx) => {
    if (ctx.attempt === 1) throw new Error("first attempt fails");
    return ctx.attempt;
  },
});

const openClient = clientPerTest();

for (const adapter of ADAPTERS) {
  describe(`signed tasks on ${adapter.name}`, () => {
    test("a signed task with its own queue, priority, retries and lease verifies on every delivery", async () => {
      const signer = new PayloadSigner({
        keys: { k1: randomBytes(32).toString("base64") },
        activeKey: "k1",
      });
      const client = await openClient(adapter, "signed", { tasks: [flaky], signer });
      await client
        .createWorker({ queues: ["signed"], retryStrategy: new FixedRetryStrategy(10) })
        .start();
      const id = await client.enqueue("signed.flaky", {}, { maxRetries: 3 });
      const result = await client.waitForTask(id, { timeout: 20_000 });
      expect(result.state).toBe("succeeded");
      expect(result.value).toBe(2);
      expect(await client.broker.listDeadLetters()).toEqual([]);
    }, 30_000);
  });
}
