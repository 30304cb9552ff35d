/**
 * The delivery limit on every adapter: a task whose deliveries keep being cut off (its
 * worker dies or hangs past the lease) is dead-lettered without running once it passes
 * `maxDeliveries`, while other tasks run as usual.
 */
import { describe, expect, test } from "bun:test";
import { defineTask, StemClient } from "../../src/index.ts";
import { deadLetterOf } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const KINDS: StoreKind[] = ["memory", "sqlite", "redis", "postgres"];

for (const kind of KINDS) {
  describe(`delivery limit on ${kind}`, () => {
    test("a task whose leases keep running out is dead-lettered as crashed, without running", async () => {
      const store = await openTestStore(kind, "dl");
      const ran: string[] = [];
      const task = defineTask({
        name: "dl.task",
        options: { visibilityTimeout: 150, maxDeliveries: 3 },
        run: (ctx) => {
          ran.push(ctx.id);
          return "ok";
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        const victim = await client.enqueue("dl.task");
        // Three workers take it and die: nothing acks, each lease runs out.
        for (let i = 1; i <= 3; i++) {
          const [d] = await client.broker.fetch(["default"], {
            max: 1,
            leaseMs: 150,
            consumer: `doomed-${i}`,
            waitMs: 3000,
          });
          expect(d.envelope.id).toBe(victim);
          expect(d.deliveries).toBe(i);
        }
        const others = await Promise.all([1, 2, 3].map(() => client.enqueue("dl.task")));
        const worker = client.createWorker({ concurrency: 2 });
        await worker.start();
        const result = await client.waitForTask(victim, { timeout: 10_000 });
        expect(result.state).toBe("failed");
        expect(result.error?.type).toBe("crashed");
        expect(result.error?.message).toContain("delivered 4 times, over the limit of 3");
        const dead = await deadLetterOf(client.broker, victim);
        expect(dead.reason).toBe("crashed");
        expect(dead.meta.deliveries).toBe(4);
        for (const id of others) {
          expect((await client.waitForTask(id, { timeout: 10_000 })).state).toBe("succeeded");
        }
        expect(ran).not.toContain(victim);
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);

    test("a task released again and again without an outcome ends max-deliveries with its last error", async () => {
      const store = await openTestStore(kind, "dl");
      const task = defineTask({ name: "dl.plain", run: () => "ok" });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        const id = await client.enqueue("dl.plain");
        // Deliveries that end in a counted release (as when storing the outcome fails),
        // the last one after recording an error for the task.
        for (let i = 1; i <= 2; i++) {
          const [d] = await client.broker.fetch(["default"], {
            max: 1,
            leaseMs: 5000,
            consumer: "flaky",
            waitMs: 3000,
          });
          if (i === 2) {
            const status = await client.backend.get(id);
            await client.backend.set([
              { ...status!, state: "retrying", error: { type: "Boom", message: "disk full" } },
            ]);
          }
          await client.broker.nack(d);
        }
        const worker = client.createWorker({ concurrency: 1, maxDeliveries: 2 });
        await worker.start();
        const result = await client.waitForTask(id, { timeout: 10_000 });
        expect(result.state).toBe("failed");
        expect(result.error?.type).toBe("max-deliveries");
        expect(result.error?.message).toContain("last error: Boom: disk full");
        const dead = await deadLetterOf(client.broker, id, 5000);
        expect(dead.reason).toBe("max-deliveries");
        expect(dead.meta).toMatchObject({ deliveries: 3, lastError: "disk full" });
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);
  });
}
